# SPDX-License-Identifier: ISC
# bench/: benchmarks. Each prints a ratio against a reference measured in
# the same run; docs/BENCHMARKS.md has the latest figures.

EXTRA_DIST += bench/gateway.sh bench/handoff.sh

# cifs -> smbdirectd -> smbdirect-gw -> Samba, and cifs -> smbdirectd ->
# Samba patched by samba/patches (built first, cached), against raw verbs
# and against cifs over TCP, in one test bed run.
bench-gateway: all check-programs
	$(AM_V_at)SAMBA_BIN=$$($(srcdir)/samba/build.sh) || exit 1; \
	export SAMBA_BIN; TB_ENV="SAMBA_BIN $${TB_ENV:-}"; export TB_ENV; \
	$(srcdir)/tests/vm/testbed.sh run -m 3072 -t 2400 \
		-o bench/results $(abs_srcdir)/bench/gateway.sh

# sdpeer -> smbdirectd -> mini-smbd's c1: SMB2 READ/WRITE over RDMA
# channels through the area, against raw verbs, in one test bed run.
bench-handoff: all check-programs
	$(AM_V_at)$(srcdir)/tests/vm/testbed.sh run -m 3072 -t 900 \
		-o bench/results-handoff $(abs_srcdir)/bench/handoff.sh

bench: bench-gateway bench-handoff
.PHONY: bench-gateway bench-handoff
