# Sourced by scripts/demo.sh and scripts/test.sh: makes sure the system
# tools they run are there, by asking for what the tools actually load, not
# for file names that happen to match a glob.
#
#   ensure_system_packages cc            # a C compiler (gcc)
#   ensure_system_packages cc cxx clang  # ... a C++ compiler, and libclang for bindgen
#   ensure_system_packages ffi           # libffi (header and library)
#
# As root on Debian, what is missing is installed with apt-get; otherwise the
# missing packages are named and the script stops.

# libclang as bindgen loads it (clang-sys, at run time): a shared object named
# libclang.so, libclang-N.so, libclang.so.N or libclang-N.so.N in the
# directories clang-sys searches, that exports clang_createIndex.
# (libclang-cpp.so.N, which other packages pull in, is the C++ library: it
# matches a loose glob but is not what bindgen can use.)
have_libclang() {
    local py
    py=$(command -v python3 || command -v python || true)
    [ -n "$py" ] || { ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1; return; }
    "$py" - <<'PY'
import ctypes, glob, os, re, sys
dirs = [os.environ.get("LIBCLANG_PATH", "")] + sorted(glob.glob("/usr/lib/llvm-*/lib"), reverse=True) + [
    "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
    "/usr/local/lib"]
name = re.compile(r"^libclang(-[0-9.]+)?\.so(\.[0-9.]+)?$")
for d in filter(None, dirs):
    for path in sorted(glob.glob(os.path.join(d, "libclang*.so*"))):
        if not name.match(os.path.basename(path)):
            continue
        try:
            if hasattr(ctypes.CDLL(path), "clang_createIndex"):
                print("libclang: " + path)
                sys.exit(0)
        except OSError:
            pass
sys.exit(1)
PY
}

ensure_system_packages() {
    local need=() what
    for what in "$@"; do
        case $what in
            cc) command -v cc >/dev/null || need+=(gcc) ;;
            cxx) command -v g++ >/dev/null || need+=(g++) ;;
            clang) have_libclang || need+=(libclang-dev) ;;
            # libffi's header and library (hpy-props calls variadic C functions with
            # argument lists made at run time)
            ffi) printf '#include <ffi.h>\nint main(void){return ffi_prep_cif==0;}\n' |
                     cc -x c - -o /dev/null -lffi >/dev/null 2>&1 || need+=(libffi-dev) ;;
            *) echo "ensure_system_packages: unknown tool '$what'" >&2; return 2 ;;
        esac
    done
    [ ${#need[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing system packages: ${need[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
        # check again: what was installed must now be loadable
        for what in "$@"; do
            if [ "$what" = clang ] && ! have_libclang; then
                echo "libclang-dev is installed but no loadable libclang was found" >&2
                return 1
            fi
        done
    else
        echo "missing system packages: ${need[*]} (install them, e.g. apt-get install ${need[*]}, then rerun)" >&2
        return 1
    fi
}
