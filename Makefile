# resnet -- a command-line ResNet image classifier, and its C library.
#
#   make            build ./resnet and the library (build/libresnet.a,
#                   build/libresnet.so.VERSION)
#   make test       build and run every test (ends with "N passed, N failed, N skipped")
#   make deps       install the Debian packages the build and tests need
#   make install    PREFIX=/usr/local (DESTDIR=): the binary, the library, its header
#                   and pkg-config file, the man pages and the shipped model
#   SANITIZE=1      build everything with AddressSanitizer + UBSan

PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
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
# Every object goes into the shared library too, hence -fPIC; it exports
# only what resnet.h marks RESNET_API.
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -fopenmp -fPIC -fvisibility=hidden -Isrc \
           $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(LINKED)) -lm
LDFLAGS += -fopenmp

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# Debian packages: to build, and to generate the test references.
DEPS_BUILD = make gcc pkg-config libjpeg62-turbo-dev libpng-dev zlib1g-dev libcjson-dev libhdf5-dev libcurl4-openssl-dev
# (python3-skimage: the sample photographs tests/make_photo_fixtures.py cuts
# the committed photo fixtures from, which tests/test_fixtures.sh remakes;
# parallel and python3-distributed: the README's scale-out forms, which
# tests/test_scaleout.sh runs)
DEPS_TEST  = python3 python3-numpy python3-pil python3-torch python3-torchvision python3-h5py \
             python3-keras-applications python3-skimage valgrind dataset-fashion-mnist \
             parallel python3-distributed

B        = build
SRCS     = $(wildcard src/*.c)
LIB_OBJS = $(patsubst src/%.c,$(B)/%.o,$(filter-out src/main.c,$(SRCS))) $(B)/builtin_specs.o \
           $(B)/imagenet_labels.o
TESTS    = $(patsubst tests/%.c,$(B)/%,$(wildcard tests/test_*.c))
VERSION  = 0.1.0
SOMAJOR  = $(firstword $(subst ., ,$(VERSION)))
SONAME   = libresnet.so.$(SOMAJOR)

all: resnet lib

# The binary links the static library: no run-time search for its own code.
resnet: $(B)/main.o $(B)/libresnet.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

lib: $(B)/libresnet.a $(B)/libresnet.so.$(VERSION)

$(B)/libresnet.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/libresnet.so.$(VERSION): $(LIB_OBJS)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SONAME) -o $@ $^ $(LDLIBS)

# The pkg-config file names the install's own PREFIX and LIBDIR, so
# `make install` writes it; Libs.private is what a static link (pkg-config
# --static) needs besides libresnet.a.
PC_LINES = 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$${prefix}/include' '' \
           'Name: resnet' 'Description: ResNet image classification on the CPU' \
           'Version: $(VERSION)' 'Libs: -L$${libdir} -lresnet' \
           'Libs.private: $(LDLIBS) -fopenmp' 'Requires.private: $(LINKED)' \
           'Cflags: -I$${includedir}'

$(B)/%.o: src/%.c src/*.h Makefile | $(B)
	$(CC) $(CFLAGS) -DRESNET_VERSION='"$(VERSION)"' -c -o $@ $<

# The SIMD kernels are compiled once per ISA from the *_simd.inc files, each
# ISA's file defining its kernel table (src/kernels.h); only these files get
# the ISA flags, so the binary still runs on any x86-64 and cpu.c picks the
# table at run time.
$(B)/kernels_avx512.o $(B)/kernels_avx2.o: src/*_simd.inc
# Under the sanitizers -O1 keeps gcc from spending minutes on these files.
ISA_OPT = $(if $(filter 1,$(SANITIZE)),-O1,-O3)
ifeq ($(shell uname -m),x86_64)
ISA_FLAGS_kernels_avx512 = -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mavx512vnni -mavx512bf16
ISA_FLAGS_kernels_avx2   = -mavx2 -mfma
endif
$(B)/kernels_avx512.o: CFLAGS += $(ISA_OPT) $(ISA_FLAGS_kernels_avx512)
$(B)/kernels_avx2.o: CFLAGS += $(ISA_OPT) $(ISA_FLAGS_kernels_avx2)

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

test: resnet lib $(TESTS)
	sh tests/run.sh

# ---- make fuzz ----------------------------------------------------------------
# libFuzzer on the spec parser, the safetensors reader (and the model opened
# with what it reads) and the image decoder (tests/fuzz/fuzz_NAME.c),
# compiled by clang together with the product's own sources under ASan + UBSan.  Each runs FUZZ_TIME seconds from its seeds
# (tests/fuzz/seeds/NAME) and kept crashes (tests/fuzz/regressions/NAME); the
# corpus grows in build/fuzz/NAME/.  A crash fails the run and leaves its input
# in build/fuzz/NAME/: fix the bug, then keep the input under
# tests/fuzz/regressions/NAME/, where tests/test_fuzz.c replays it in make test.
FUZZ_CC     = clang
FUZZ_TIME  ?= 60
FUZZERS     = spec safetensors image
FUZZ_SRCS   = $(filter-out src/main.c,$(SRCS))
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

# Without -fopenmp clang ignores the parallel regions, so a harness runs the
# kernels on one thread, the same way every time; libgomp provides omp_*().
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(B)/fuzz/libfuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(B)/fuzz/libfuzz.a $(LDLIBS) -lgomp

$(B)/fuzz/libfuzz.a: $(patsubst src/%.c,$(B)/fuzz/%.o,$(FUZZ_SRCS)) $(B)/fuzz/builtin_specs.o \
                     $(B)/fuzz/imagenet_labels.o
	rm -f $@ && ar rcs $@ $^

# The fuzzers run fp32 networks: their kernel files leave out the int8 and
# bf16 tiles, which clang under the sanitizers takes many minutes to compile.
$(B)/fuzz/%.o: src/%.c src/*.h Makefile | $(B)/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(filter-out -mavx512vnni -mavx512bf16,$(ISA_FLAGS_$*)) -c -o $@ $<

$(B)/fuzz/builtin_specs.o $(B)/fuzz/imagenet_labels.o: $(B)/fuzz/%.o: $(B)/%.c | $(B)/fuzz
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

install: resnet lib
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 resnet $(DESTDIR)$(PREFIX)/bin/resnet
	install -m 644 src/resnet.h $(DESTDIR)$(PREFIX)/include/resnet.h
	install -m 644 $(B)/libresnet.a $(DESTDIR)$(LIBDIR)/libresnet.a
	install -m 755 $(B)/libresnet.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libresnet.so.$(VERSION)
	ln -sf libresnet.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libresnet.so
	printf '%s\n' $(PC_LINES) > $(DESTDIR)$(LIBDIR)/pkgconfig/resnet.pc
	install -m 644 man/resnet.1 $(DESTDIR)$(PREFIX)/share/man/man1/resnet.1
	install -m 644 man/resnet-spec.5 $(DESTDIR)$(PREFIX)/share/man/man5/resnet-spec.5
	install -d $(DESTDIR)$(PREFIX)/share/resnet
	install -m 644 models/fashion_resnet20.json models/fashion_labels.txt \
	    models/fashion_resnet20.safetensors $(DESTDIR)$(PREFIX)/share/resnet/

clean:
	rm -rf $(B) resnet

.PHONY: all lib test deps install clean fuzz demo
.SECONDARY:
