# resnet -- a command-line ResNet image classifier.
#
#   make            build ./resnet
#   make test       build and run every test (ends with "N passed, N failed")
#   make deps       install the Debian packages the build and tests need
#   make install    PREFIX=/usr/local: the binary and the man page
#   SANITIZE=1      build everything with AddressSanitizer + UBSan

PREFIX  ?= /usr/local
CC      ?= cc
# libcurl and libhdf5 are compiled against but opened with dlopen when
# `resnet fetch` downloads or a Keras .h5 file is read (src/fetch.c, src/hdf5_lib.c):
# linked, they and what they pull in would be loaded at the start of every
# process, though most never download or read a Keras file.
LINKED   = libjpeg libpng zlib libcjson
PKGS     = $(LINKED) hdf5 libcurl
# the name dlopen asks for: the soname of the libhdf5 the build compiles against
HDF5_SONAME := $(shell objdump -p $(firstword $(wildcard $(patsubst -L%,%/libhdf5.so,\
                 $(filter -L%,$(shell pkg-config --libs-only-L hdf5 2>/dev/null))) \
                 /usr/lib/*/libhdf5_serial.so)) 2>/dev/null | awk '/SONAME/ {print $$2}')
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -fopenmp -Isrc \
           $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(LINKED)) -lm
LDFLAGS += -fopenmp

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# Debian packages: to build, and to generate the test references.
DEPS_BUILD = make gcc pkg-config libjpeg62-turbo-dev libpng-dev zlib1g-dev libcjson-dev libhdf5-dev libcurl4-openssl-dev
DEPS_TEST  = python3 python3-numpy python3-pil python3-torch python3-torchvision python3-h5py python3-keras-applications valgrind dataset-fashion-mnist

B        = build
SRCS     = $(wildcard src/*.c)
LIB_OBJS = $(patsubst src/%.c,$(B)/%.o,$(filter-out src/main.c,$(SRCS))) $(B)/builtin_specs.o \
           $(B)/imagenet_labels.o
TESTS    = $(patsubst tests/%.c,$(B)/%,$(wildcard tests/test_*.c))
VERSION  = 0.1.0

all: resnet

resnet: $(B)/main.o $(B)/libresnet.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/libresnet.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/%.o: src/%.c src/*.h | $(B)
	$(CC) $(CFLAGS) -DRESNET_VERSION='"$(VERSION)"' -c -o $@ $<

# The convolution kernels are compiled once per ISA from conv_simd.inc (and
# Winograd's from winograd_simd.inc); only
# these files get the ISA flags, so the binary still runs on any x86-64 and
# cpu.c picks the path at run time.
$(B)/conv_avx512.o $(B)/conv_avx2.o: src/conv_simd.inc src/winograd_simd.inc
# Under the sanitizers -O1 keeps gcc from spending minutes on these files.
ISA_OPT = $(if $(filter 1,$(SANITIZE)),-O1,-O3)
ifeq ($(shell uname -m),x86_64)
$(B)/conv_avx512.o: CFLAGS += $(ISA_OPT) -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma
$(B)/conv_avx2.o: CFLAGS += $(ISA_OPT) -mavx2 -mfma
endif

ifneq ($(HDF5_SONAME),)
$(B)/hdf5_lib.o: CFLAGS += -DHDF5_SONAME='"$(HDF5_SONAME)"'
endif

# The specs in models/ are compiled in, so `-m resnet50` needs no file.
$(B)/builtin_specs.c: models/*.json src/embed_specs.sh | $(B)
	sh src/embed_specs.sh models/*.json > $@

$(B)/builtin_specs.o: $(B)/builtin_specs.c
	$(CC) $(CFLAGS) -c -o $@ $<

# The ImageNet class names are compiled in too (src/labels.c cuts them into
# lines): classify needs no file for them.
$(B)/imagenet_labels.c: models/imagenet_labels.txt src/embed_labels.sh | $(B)
	sh src/embed_labels.sh models/imagenet_labels.txt > $@

$(B)/imagenet_labels.o: $(B)/imagenet_labels.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/test_%: tests/test_%.c tests/check.h tests/testutil.h $(B)/libresnet.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libresnet.a $(LDLIBS)

$(B):
	mkdir -p $@

test: resnet $(TESTS)
	sh tests/run.sh

# ---- make fuzz ----------------------------------------------------------------
# libFuzzer on the spec parser, the safetensors reader and the image decoder
# (tests/fuzz/fuzz_NAME.c), compiled by clang together with the product's own
# sources under ASan + UBSan.  Each runs FUZZ_TIME seconds from its seeds
# (tests/fuzz/seeds/NAME) and kept crashes (tests/fuzz/regressions/NAME); the
# corpus grows in build/fuzz/NAME/.  A crash fails the run and leaves its input
# in build/fuzz/NAME/: fix the bug, then keep the input under
# tests/fuzz/regressions/NAME/, where tests/test_fuzz.c replays it in make test.
FUZZ_CC     = clang
FUZZ_TIME  ?= 60
FUZZERS     = spec safetensors image
FUZZ_SRCS   = $(addprefix src/,err.c spec.c spec_json.c spec_layers.c spec_load.c net.c \
                weights.c safetensors.c h5.c h5_layout.c hdf5_lib.c image.c preprocess.c)
FUZZ_CFLAGS = -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fno-omit-frame-pointer \
              -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
              $(shell pkg-config --cflags $(PKGS))
FUZZ_LEN_spec        = 4096
FUZZ_LEN_safetensors = 8192
FUZZ_LEN_image       = 32768
DEPS_FUZZ   = clang libclang-rt-dev

fuzz: $(addprefix fuzz-,$(FUZZERS))

fuzz-%: $(B)/fuzz/fuzz_%
	@mkdir -p $(B)/fuzz/$*
	@echo "fuzz_$*: $(FUZZ_TIME) s (log: $(B)/fuzz/$*.log)"
	@$< -max_total_time=$(FUZZ_TIME) -max_len=$(FUZZ_LEN_$*) -rss_limit_mb=2048 -timeout=25 \
	    -dict=tests/fuzz/$*.dict -print_final_stats=1 -artifact_prefix=$(B)/fuzz/$*/ \
	    $(B)/fuzz/$*/ tests/fuzz/seeds/$* $(wildcard tests/fuzz/regressions/$*) >$(B)/fuzz/$*.log 2>&1; \
	status=$$?; \
	grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done )' $(B)/fuzz/$*.log | sed 's/^/    /'; \
	if [ $$status -ne 0 ]; then \
	    grep -E 'ERROR|SUMMARY|broken:|#[0-9] .* in |Test unit written|artifact' $(B)/fuzz/$*.log | head -20 | sed 's/^/    /'; \
	    echo "fuzz_$*: FAILED: fix it, then keep the input under tests/fuzz/regressions/$*/"; \
	fi; exit $$status

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(B)/fuzz/libfuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(B)/fuzz/libfuzz.a $(LDLIBS)

$(B)/fuzz/libfuzz.a: $(patsubst src/%.c,$(B)/fuzz/%.o,$(FUZZ_SRCS)) $(B)/fuzz/builtin_specs.o
	rm -f $@ && ar rcs $@ $^

$(B)/fuzz/%.o: src/%.c src/*.h | $(B)/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(B)/fuzz/builtin_specs.o: $(B)/builtin_specs.c | $(B)/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(B)/fuzz:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz needs clang and libFuzzer: apt-get install $(DEPS_FUZZ)"; exit 1; }
	mkdir -p $@

# The replay of the fuzz inputs in make test compiles the harnesses in.
$(B)/test_fuzz: tests/fuzz/*.c tests/fuzz/*.h

deps:
	@missing=$$(for p in $(DEPS_BUILD) $(DEPS_TEST); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    $$( [ $$(id -u) -ne 0 ] && echo sudo ) apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive $$( [ $$(id -u) -ne 0 ] && echo sudo ) apt-get install -y -q $$missing; \
	else echo "all Debian packages present"; fi

# ---- make demo ----------------------------------------------------------------
# From a fresh Debian: install the build packages that are missing, build,
# classify the bundled Fashion-MNIST images with the shipped model, then --
# where the network allows -- fetch resnet50's weights and classify the
# bundled photos.  Offline it says so and stops, successfully.
DEMO_PHOTOS = tests/images/parity/chelsea.jpg tests/images/parity/coffee.png \
              tests/images/parity/rocket.jpg

demo:
	@$(MAKE) --no-print-directory deps DEPS_TEST=
	@$(MAKE) --no-print-directory resnet
	@echo; echo "== models/fashion_resnet20 (shipped), one Fashion-MNIST test image per class"
	./resnet classify -m fashion_resnet20 -k 1 tests/images/fashion
	@echo; echo "== resnet50 with torchvision's ImageNet weights"
	@if ./resnet fetch resnet50; then \
	    echo "./resnet classify -k 3 $(DEMO_PHOTOS)"; ./resnet classify -k 3 $(DEMO_PHOTOS); \
	else \
	    echo "demo: resnet50's weights could not be downloaded (offline?), so the demo stops here;"; \
	    echo "      run 'make demo' again when online, or see README, \"Weights\"."; \
	fi

install: resnet
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 resnet $(DESTDIR)$(PREFIX)/bin/resnet
	install -m 644 man/resnet.1 $(DESTDIR)$(PREFIX)/share/man/man1/resnet.1
	install -d $(DESTDIR)$(PREFIX)/share/resnet
	install -m 644 models/fashion_resnet20.json models/fashion_labels.txt \
	    models/fashion_resnet20.safetensors $(DESTDIR)$(PREFIX)/share/resnet/

clean:
	rm -rf $(B) resnet

.PHONY: all test deps install clean fuzz demo
.SECONDARY:
