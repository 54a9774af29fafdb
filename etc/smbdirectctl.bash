# SPDX-License-Identifier: ISC
# bash completion for smbdirectctl(8): commands, options, and the ids of
# open connections (asked of the daemon, quietly, when it answers).

_smbdirectctl_ids()
{
	local sock=$1
	smbdirectctl ${sock:+-s "$sock"} --json conns 2>/dev/null |
		sed -n 's/.*"connections":\[\(.*\)\].*/\1/p' |
		grep -o '"id":[0-9]*' | cut -d: -f2
}

_smbdirectctl()
{
	local cur prev cmd sock i
	local commands="status conns connections show credits mr drain
		undrain kill metrics interfaces events monitor"
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	# The command is the first word after the options.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-s | --socket)
			sock=${COMP_WORDS[i + 1]}
			i=$((i + 1))
			;;
		-*) ;;
		*)
			cmd=${COMP_WORDS[i]}
			break
			;;
		esac
	done
	if [ "$prev" = -s ] || [ "$prev" = --socket ]; then
		COMPREPLY=($(compgen -f -- "$cur"))
		return
	fi
	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-s --socket -j --json -p --pretty
			    -h --help -V --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi
	case $cmd in
	show | kill)
		COMPREPLY=($(compgen -W "$(_smbdirectctl_ids "$sock")" -- "$cur"))
		;;
	drain)
		COMPREPLY=($(compgen -W "--all --wait --timeout --grace --json
		    $(_smbdirectctl_ids "$sock")" -- "$cur"))
		;;
	events | monitor)
		COMPREPLY=($(compgen -W "--count --timeout --json" -- "$cur"))
		;;
	*)
		COMPREPLY=($(compgen -W "--json" -- "$cur"))
		;;
	esac
}
complete -F _smbdirectctl smbdirectctl
