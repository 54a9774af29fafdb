# SPDX-License-Identifier: ISC
# etc/: the example configurations, the systemd units and the
# node_exporter note.

# The configurations are always installed as examples, and into
# $(sysconfdir) only where no file of that name exists: `make install`
# never overwrites an administrator's configuration.
sdexamplesdir = $(docdir)/examples
dist_sdexamples_DATA = etc/smbdirectd.conf etc/smbdirect-gw.conf
sddocdir = $(docdir)
dist_sddoc_DATA = etc/textfile-collector.md

# bash completion for smbdirectctl, where bash-completion looks for it.
bashcompletiondir = $(datadir)/bash-completion/completions
bashcompletion_DATA = etc/smbdirectctl
EXTRA_DIST += etc/smbdirectctl.bash
CLEANFILES += etc/smbdirectctl
etc/smbdirectctl: etc/smbdirectctl.bash
	$(AM_V_GEN)$(MKDIR_P) etc && cp $(srcdir)/etc/smbdirectctl.bash $@

SD_ETC_CONFIGS = smbdirectd.conf smbdirect-gw.conf

install-data-hook: install-data-hook-etc
install-data-hook-etc:
	$(MKDIR_P) '$(DESTDIR)$(sysconfdir)'
	@for f in $(SD_ETC_CONFIGS); do \
	  t='$(DESTDIR)$(sysconfdir)'/$$f; \
	  if test -e "$$t"; then \
	    echo "  keeping $$t (an existing configuration is not replaced)"; \
	  else \
	    echo " $(INSTALL_DATA) $(srcdir)/etc/$$f '$$t'"; \
	    $(INSTALL_DATA) "$(srcdir)/etc/$$f" "$$t" || exit 1; \
	  fi; \
	done

# Remove a configuration only if it is still the one we shipped: an edited
# file is the administrator's. (distcheck's uninstall check stays clean.)
uninstall-hook: uninstall-hook-etc
uninstall-hook-etc:
	@for f in $(SD_ETC_CONFIGS); do \
	  t='$(DESTDIR)$(sysconfdir)'/$$f; \
	  if test -f "$$t" && cmp -s "$(srcdir)/etc/$$f" "$$t"; then \
	    echo " rm -f '$$t'"; \
	    rm -f "$$t"; \
	  elif test -f "$$t"; then \
	    echo "  keeping $$t (changed since installation)"; \
	  fi; \
	done
.PHONY: install-data-hook-etc uninstall-hook-etc

# The systemd units are templates: @sbindir@ becomes the configured sbindir
# at build time (not at configure time, so `make sbindir=...` works too).
systemdunit_DATA = etc/smbdirectd.service etc/smbdirect-gw.service
EXTRA_DIST += etc/smbdirectd.service.in etc/smbdirect-gw.service.in
CLEANFILES += $(systemdunit_DATA)

sd_edit_unit = $(SED) -e 's|@sbindir[@]|$(sbindir)|g'

etc/smbdirectd.service: $(srcdir)/etc/smbdirectd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && rm -f $@ $@.tmp && \
	$(sd_edit_unit) $(srcdir)/etc/smbdirectd.service.in >$@.tmp && \
	mv $@.tmp $@

etc/smbdirect-gw.service: $(srcdir)/etc/smbdirect-gw.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && rm -f $@ $@.tmp && \
	$(sd_edit_unit) $(srcdir)/etc/smbdirect-gw.service.in >$@.tmp && \
	mv $@.tmp $@
