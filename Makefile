# MiniVmm: thin wrappers over dotnet and the images/ scripts.
#   make build   compile everything (JIT builds, for tests)
#   make publish the NativeAOT binary out/minivmm (what run-guest.sh uses)
#   make image   guest images from Debian packages into the cache (images/build.sh)
#   make image-wayland  the wayland initramfs (NativeAOT guest proxy + Debian clients) for the guest tests
#   make run     boot the default guest with its console on this terminal
#   make test    images + the NativeAOT binary + every test project (KVM payloads, Linux boots included;
#                tests needing /dev/kvm are skipped, loudly, on a host without it)
#   make bench   benchmarks, printed as ratios against baselines measured in the same run
#   make deps    the Debian packages the build and tests need (tools/deps.sh)
SHELL := /bin/bash
DOTNET ?= dotnet
SOURCES := $(shell find src firmware -name '*.cs' -o -name '*.csproj' 2>/dev/null) Directory.Build.props


.PHONY: deps build publish image image-wayland run test bench clean

deps:
	@tools/deps.sh

build: deps
	$(DOTNET) build MiniVmm.sln -nologo -v q

publish: out/minivmm

out/minivmm: $(SOURCES) | deps
	$(DOTNET) publish src/MiniVmm/MiniVmm.csproj -c Release -r linux-x64 -nologo -v q -o out
	@touch $@

image:
	images/build.sh all

image-wayland: deps
	images/build.sh wayland

run:
	./run-guest.sh

# publish first: a test boots through run-guest.sh, which needs out/minivmm; image-wayland for the guest
# end-to-end test (the shipped NativeAOT proxy and Debian clients in a Linux guest).
test: deps image image-wayland publish
	tests/run.sh

bench: publish image
	BENCH_AOT=out/minivmm bench/run.sh

clean:
	rm -rf out artifacts
	find . -name bin -o -name obj -type d -prune -exec rm -rf {} +
