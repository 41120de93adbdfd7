# Makefile - build, test and install crmilter, crmctl and crmview
#
#   make            build everything into build/
#   make test       install missing packages (as root), build, run every suite
#   make asan       the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test-slow  the load test, the Debian package, Sendmail; CI runs it too
#   make fuzz       libFuzzer targets (clang, ASan + UBSan), FUZZ_TIME seconds each
#   make demo       a private Postfix + crmilter on loopback with a sample conversation
#   make deps       install the Debian 12 packages (or print the command)
#   make install    PREFIX=/usr/local DESTDIR= SYSCONFDIR=/etc
#   make deb        a Debian package (debhelper) into $(BUILD)/

PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/crmilter
SYSCONFDIR ?= /etc
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR    ?=

BUILD      ?= build
SAN        ?=
CC         ?= cc
CFLAGS     ?= -O2 -g

PKGS       := gmime-3.0 sqlite3 libzstd libxml-2.0 libpcre2-8 jansson libpsl libytnef
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null | sed 's/-I/-isystem /g')
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wvla -Wundef -Wwrite-strings \
	-Wno-unused-parameter
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -pthread $(WARN) $(PKG_CFLAGS) $(CFLAGS) $(SAN) \
	-DCRM_DATADIR='"$(DATADIR)"' -DCRM_SYSCONFDIR='"$(SYSCONFDIR)"' -MMD -MP
LDLIBS := $(PKG_LIBS) -lm -pthread
# crmview's HTTP server and the password hashing of crmview and crmctl user
VIEW_PKGS  := libmicrohttpd libsodium
VIEW_CFLAGS := $(shell pkg-config --cflags $(VIEW_PKGS) 2>/dev/null | sed 's/-I/-isystem /g')
VIEW_LIBS  := $(shell pkg-config --libs $(VIEW_PKGS) 2>/dev/null)
ALL_CFLAGS += $(VIEW_CFLAGS)

COMMON_SRC := $(wildcard common/*.c)
MAIL_SRC   := $(wildcard mail/*.c)
STORE_SRC  := $(wildcard storage/*.c)
RULES_SRC  := $(wildcard rules/*.c)
INGEST_SRC := $(wildcard ingest/*.c)
CLI_SRC    := $(wildcard cli/*.c)
MILTER_SRC := $(filter-out milter/main.c,$(wildcard milter/*.c))
VIEWER_SRC := $(filter-out viewer/main.c,$(wildcard viewer/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)

# quiet build lines; make V=1 shows the full commands
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBCOMMON := $(BUILD)/libcommon.a
LIBMAIL   := $(BUILD)/libmail.a
LIBSTORE  := $(BUILD)/libstore.a
LIBRULES  := $(BUILD)/librules.a
LIBINGEST := $(BUILD)/libingest.a
LIBS      := $(LIBINGEST) $(LIBRULES) $(LIBSTORE) $(LIBMAIL) $(LIBCOMMON)
LIBMILTER := $(BUILD)/libcrmilter.a
LIBVIEWER := $(BUILD)/libviewer.a

PROGS      := $(BUILD)/crmctl $(if $(wildcard milter/main.c),$(BUILD)/crmilter) $(BUILD)/crmview
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all test asan deps check-deps install clean unit demo fuzz fuzz-bins test-slow
.PHONY: deb install-man
all: $(PROGS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
$(LIBMAIL): $(call obj,$(MAIL_SRC))
$(LIBSTORE): $(call obj,$(STORE_SRC))
$(LIBRULES): $(call obj,$(RULES_SRC))
$(LIBINGEST): $(call obj,$(INGEST_SRC))
$(LIBMILTER): $(call obj,$(MILTER_SRC))
$(LIBVIEWER): $(call obj,$(VIEWER_SRC)) $(BUILD)/obj/$(BUILD)/gen/style_css.o
# crmview's /metrics counts the spool through milter/spool.c (no libmilter calls)
$(LIBVIEWER): $(BUILD)/obj/milter/spool.o
$(LIBS) $(LIBMILTER) $(LIBVIEWER):
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# crmctl reads the milter's spool (spool status/retry) through milter/spool.c,
# which has no libmilter calls
$(BUILD)/crmctl: $(call obj,$(CLI_SRC) $(wildcard milter/spool.c)) $(LIBS)
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) $(VIEW_LIBS)

# libmilter has no pkg-config file.  It is linked statically, with its
# accept(), read() and close() (and crmilter's own) going through
# milter/guard.c (MilterPeers, MilterConnections, silent connections), and
# its sigwait() through milter/signals.c (the main thread takes the signals)
MILTER_LINK := -Wl,--wrap=accept,--wrap=read,--wrap=close,--wrap=sigwait,-u,__wrap_sigwait \
	-l:libmilter.a
$(BUILD)/crmilter: $(BUILD)/obj/milter/main.o $(LIBMILTER) $(LIBS)
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) $(MILTER_LINK)

# crmview: the read-only viewer; its stylesheet is compiled in
$(BUILD)/crmview: $(BUILD)/obj/viewer/main.o $(LIBVIEWER) $(LIBSTORE) $(LIBMAIL) $(LIBCOMMON)
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) $(VIEW_LIBS)

$(BUILD)/gen/style_css.c: viewer/static/style.css
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)
	$(Q){ echo '/* generated from $< by the Makefile: do not edit */'; \
	  echo '#include <stddef.h>'; echo 'const unsigned char view_style_css[] = {'; \
	  od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '};'; \
	  echo 'const size_t view_style_css_len = sizeof view_style_css;'; } > $@

# each unit test links only the modules it tests, so one module's tests
# build while another module is broken
unit_bins = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/$(1)*.c))
CONF_TESTS  := $(call unit_bins,test_conf)
MAIL_TESTS  := $(call unit_bins,test_mail)
MILTER_TESTS := $(call unit_bins,test_milter)
RULES_TESTS := $(call unit_bins,test_rules)
VIEW_TESTS  := $(call unit_bins,test_view)
OTHER_TESTS := $(filter-out $(CONF_TESTS) $(MAIL_TESTS) $(MILTER_TESTS) $(RULES_TESTS) $(VIEW_TESTS),$(UNIT_TESTS))

$(CONF_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBCOMMON)
$(MAIL_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBMAIL) $(LIBCOMMON)
$(RULES_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBRULES) $(LIBMAIL) $(LIBCOMMON)
$(OTHER_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBS)
$(MILTER_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBMILTER) $(LIBS)
$(VIEW_TESTS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBVIEWER) $(LIBS)
$(UNIT_TESTS):
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka $(if $(filter $@,$(MILTER_TESTS)),$(MILTER_LINK)) \
		$(if $(filter $@,$(VIEW_TESTS)),$(VIEW_LIBS))

unit: $(UNIT_TESTS)

# ---- fuzz targets (tests/fuzz/README.md) ----
# Each tests/fuzz/fuzz_NAME.c is built as $(BUILD)/fuzz/fuzz_NAME: under the
# normal build with standalone.c's main() (make test replays the regression
# inputs and seeds through it, no clang needed); under `make fuzz` with
# LIBFUZZER=-fsanitize=fuzzer (libFuzzer's main).  FUZZ_LIBS_fuzz_NAME names
# what a target links; a target without one links every library.
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  := $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_NAMES))
FUZZ_MAIN  := $(if $(LIBFUZZER),,$(BUILD)/obj/tests/fuzz/standalone.o)
FUZZ_TIME  ?= 180
FUZZ_LIBS_fuzz_mail_parse  := $(LIBMAIL) $(LIBCOMMON)
FUZZ_LIBS_fuzz_mail_source := $(LIBMAIL) $(LIBCOMMON)
FUZZ_LIBS_fuzz_conf        := $(LIBCOMMON)
FUZZ_LIBS_fuzz_spool       := $(BUILD)/obj/milter/spool.o $(LIBCOMMON)
FUZZ_LIBS_fuzz_rules       := $(LIBRULES) $(LIBMAIL) $(LIBCOMMON)
FUZZ_LIBS_fuzz_view        := $(LIBVIEWER) $(LIBS)
# fuzz_view serves requests through a libmicrohttpd daemon of its own; the
# targets read fixtures from this tree (or $CRM_TOP)
$(BUILD)/fuzz/fuzz_view: LDLIBS += $(VIEW_LIBS)
$(BUILD)/obj/tests/fuzz/%.o: ALL_CFLAGS += -DFUZZ_TOP='"$(CURDIR)"'
define fuzz_rule
$(BUILD)/fuzz/$(1): $(BUILD)/obj/tests/fuzz/$(1).o $(BUILD)/obj/tests/fuzz/util.o $(FUZZ_MAIN) \
	$(or $(FUZZ_LIBS_$(1)),$(LIBS))
endef
$(foreach f,$(FUZZ_NAMES),$(eval $(call fuzz_rule,$(f))))
$(FUZZ_BINS):
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LIBFUZZER) -o $@ $^ $(LDLIBS)

fuzz-bins: $(FUZZ_BINS)

# make fuzz [FUZZ_TIME=seconds per target] [FUZZ_TARGETS="fuzz_conf ..."]
fuzz:
	@sh build-aux/deps.sh --missing --fuzz
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang CFLAGS="-O1 -g" \
		SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LIBFUZZER=-fsanitize=fuzzer fuzz-bins
	@sh tests/fuzz/run.sh build-fuzz $(FUZZ_TIME) $(FUZZ_TARGETS)

deps:
	@sh build-aux/deps.sh

check-deps:
	@sh build-aux/deps.sh --missing

# the suite: builds in a sub-make so that pkg-config runs after deps are in
test: check-deps
	@$(MAKE) --no-print-directory all unit fuzz-bins
	@sh tests/run.sh $(BUILD)

# the slow suites only (tests/S*.sh: the 10,000-message load test)
test-slow: check-deps
	@$(MAKE) --no-print-directory all
	@sh tests/run.sh $(BUILD) slow

asan: check-deps
	@$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="-O1 -g" \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all unit fuzz-bins
	@CRM_SANITIZE=1 sh tests/run.sh build-asan

# demo: needs root; installs what is missing, then runs until Ctrl-C
demo: check-deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash build-aux/demo.sh

install: all install-man
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(SYSCONFDIR)/crmilter
	install -m 0755 $(PROGS) $(DESTDIR)$(SBINDIR)/
	install -m 0644 contrib/freemail-domains.txt $(DESTDIR)$(DATADIR)/
	install -m 0644 contrib/crmilter.conf.example contrib/rules.example $(DESTDIR)$(DATADIR)/
	install -d $(DESTDIR)$(SYSTEMDDIR)
	for u in contrib/systemd/*.service; do \
	  sed -e 's#/usr/local/sbin/#$(SBINDIR)/#g' -e 's#/usr/local/share/#$(PREFIX)/share/#g' \
	    -e 's#/etc/crmilter/#$(SYSCONFDIR)/crmilter/#g' $$u > $(DESTDIR)$(SYSTEMDDIR)/$${u##*/} && \
	  chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/$${u##*/} || exit 1; done

# install-man: the man pages, with the installed paths (builds nothing)
install-man:
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	for m in man/*.[58]; do \
	  sed -e 's#/usr/local/share/#$(PREFIX)/share/#g' -e 's#/etc/crmilter/#$(SYSCONFDIR)/crmilter/#g' \
	    $$m > $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/} && \
	  chmod 0644 $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/} || exit 1; done

# make deb: the Debian package (debian/, debhelper) built from a copy of the
# source folders, so the tree stays clean; the .deb lands in $(BUILD)/,
# the only crmilter_*.deb there (older builds are removed)
DEB_SRC := Makefile README.md INSTALL.md debian build-aux \
	$(filter-out build% tests bench debian,$(patsubst %/,%,$(wildcard */)))
deb:
	@sh build-aux/deps.sh --missing
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/src
	tar -cf - $(DEB_SRC) | tar -xf - -C $(BUILD)/deb/src
	cd $(BUILD)/deb/src && DEB_BUILD_OPTIONS="nocheck parallel=2 $(DEB_BUILD_OPTIONS)" \
		dpkg-buildpackage -us -uc -b
	rm -f $(BUILD)/crmilter_*.deb $(BUILD)/crmilter-dbgsym_*.deb
	cp $(BUILD)/deb/*.deb $(BUILD)/

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
