# resnet -- a command-line ResNet image classifier.
#
#   make            build ./resnet
#   make test       build and run every test (ends with "N passed, N failed")
#   make deps       install the Debian packages the build and tests need
#   make install    PREFIX=/usr/local: the binary and the man page
#   SANITIZE=1      build everything with AddressSanitizer + UBSan

PREFIX  ?= /usr/local
CC      ?= cc
PKGS     = libjpeg libpng libcjson
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -fopenmp -Isrc \
           $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lm
LDFLAGS += -fopenmp

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# Debian packages: to build, and to generate the test references.
DEPS_BUILD = make gcc pkg-config libjpeg62-turbo-dev libpng-dev libcjson-dev
DEPS_TEST  = python3 python3-numpy python3-pil python3-torch python3-torchvision

B        = build
SRCS     = $(wildcard src/*.c)
LIB_OBJS = $(patsubst src/%.c,$(B)/%.o,$(filter-out src/main.c,$(SRCS))) $(B)/builtin_specs.o
TESTS    = $(patsubst tests/%.c,$(B)/%,$(wildcard tests/test_*.c))
VERSION  = $(shell cat VERSION 2>/dev/null || echo 0.1.0)

all: resnet

resnet: $(B)/main.o $(B)/libresnet.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/libresnet.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/%.o: src/%.c src/*.h | $(B)
	$(CC) $(CFLAGS) -DRESNET_VERSION='"$(VERSION)"' -c -o $@ $<

# The specs in models/ are compiled in, so `-m resnet50` needs no file.
$(B)/builtin_specs.c: models/*.json src/embed_specs.sh | $(B)
	sh src/embed_specs.sh models/*.json > $@

$(B)/builtin_specs.o: $(B)/builtin_specs.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/test_%: tests/test_%.c tests/check.h $(B)/libresnet.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libresnet.a $(LDLIBS)

$(B):
	mkdir -p $@

test: resnet $(TESTS)
	sh tests/run.sh

deps:
	@missing=$$(for p in $(DEPS_BUILD) $(DEPS_TEST); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    $$( [ $$(id -u) -ne 0 ] && echo sudo ) apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive $$( [ $$(id -u) -ne 0 ] && echo sudo ) apt-get install -y -q $$missing; \
	else echo "all Debian packages present"; fi

install: resnet
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 resnet $(DESTDIR)$(PREFIX)/bin/resnet
	install -m 644 man/resnet.1 $(DESTDIR)$(PREFIX)/share/man/man1/resnet.1

clean:
	rm -rf $(B) resnet

.PHONY: all test deps install clean
.SECONDARY:
