# shellcheck shell=bash
# scripts/env.sh - set up hwflow's Python environment in <repo>/.venv.
#
#   source scripts/env.sh     # what `make run` / `make test` do; also activates .venv
#   bash scripts/env.sh       # set up only
#
# Steps (one line each on the happy path):
#   1. find a Python that can host TensorFlow 2.15.1: $HWFLOW_PYTHON if set, then
#      python3.11, python3.10, python3 (each only if it really reports 3.10 or 3.11;
#      pyenv shims for versions that are not selected exist on PATH but fail);
#   2. create .venv if missing, or re-create it if its Python is not 3.10/3.11;
#   3. `pip install -e '.[test]'` only when pyproject.toml changed since the last
#      install (sha256 kept in .venv/.hwflow-stamp; pip's output in .venv/.hwflow-pip.log);
#   4. check for g++ (needed only for firmware C simulation): warn if missing.
# Safe to source from shells running with `set -euo pipefail`.

if [ -z "${BASH_VERSION:-}" ]; then
    echo "scripts/env.sh needs bash" >&2
    return 1 2>/dev/null || exit 1
fi

_hwflow_pyver() {
    # Prints "X.Y" for the interpreter $1, fails if it cannot run.
    "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

_hwflow_pyexe() {
    # Prints the real executable behind $1 (resolves pyenv/asdf shims).
    "$1" -c 'import sys; print(sys.executable)' 2>/dev/null
}

_hwflow_env_main() {
    local root="$1"
    local venv="$root/.venv"
    local venv_py="$venv/bin/python"
    local stamp="$venv/.hwflow-stamp"
    local log="$venv/.hwflow-pip.log"
    local py="" ver="" other="" cand v
    local -a cands=()

    # 1. Python 3.10 / 3.11.
    if [ -n "${HWFLOW_PYTHON:-}" ]; then cands+=("$HWFLOW_PYTHON"); fi
    cands+=(python3.11 python3.10 python3)
    for cand in "${cands[@]}"; do
        command -v "$cand" >/dev/null 2>&1 || continue
        v="$(_hwflow_pyver "$cand")" || continue
        case "$v" in
            3.10 | 3.11)
                py="$(_hwflow_pyexe "$cand")" || py=""
                if [ -z "$py" ]; then py="$(command -v "$cand")"; fi
                ver="$v"
                break
                ;;
            *)
                if [ -z "$other" ]; then other="$v"; fi
                ;;
        esac
    done
    if [ -z "$py" ]; then
        if [ -n "$other" ]; then
            echo "hwflow needs Python 3.10 or 3.11 (TensorFlow 2.15.1 has no wheels for Python $other); install python3.11 and retry" >&2
        else
            echo "hwflow needs Python 3.10 or 3.11 (no python3 found on PATH); install python3.11 and retry" >&2
        fi
        return 1
    fi
    echo "[hwflow] python: $py ($ver)"

    # 2. The virtual environment.
    v="$(_hwflow_pyver "$venv_py")" || v=""
    case "$v" in
        3.10 | 3.11)
            echo "[hwflow] venv: .venv (Python $v)"
            ;;
        *)
            if [ -n "$v" ]; then
                echo "[hwflow] venv: .venv has Python $v, re-creating it with $py ($ver)"
            else
                echo "[hwflow] venv: creating .venv with $py ($ver)"
            fi
            if ! "$py" -m venv --clear "$venv"; then
                echo "hwflow: could not create $venv with $py (on Debian/Ubuntu: apt-get install python$ver-venv)" >&2
                return 1
            fi
            ;;
    esac

    # 3. Editable install, only when pyproject.toml changed (or the install is gone).
    local want have=""
    want="$("$venv_py" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$root/pyproject.toml")" || {
        echo "hwflow: cannot read $root/pyproject.toml" >&2
        return 1
    }
    if [ -f "$stamp" ]; then have="$(cat "$stamp")"; fi
    if [ "$want" = "$have" ] && [ -x "$venv/bin/hwflow" ]; then
        echo "[hwflow] deps: up to date"
    else
        echo "[hwflow] deps: pip install -e '.[test]' (first install downloads TensorFlow: minutes; log in .venv/.hwflow-pip.log)"
        rm -f "$stamp"
        if (cd "$root" && PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv_py" -m pip install -e '.[test]') >"$log" 2>&1; then
            echo "$want" >"$stamp"
        else
            tail -n 25 "$log" >&2
            echo "hwflow: pip install -e '.[test]' failed; full log in $log" >&2
            return 1
        fi
    fi

    # 4. C++ compiler (firmware C simulation only).
    if command -v g++ >/dev/null 2>&1; then
        echo "[hwflow] c++: g++ $(g++ -dumpfullversion -dumpversion 2>/dev/null)"
    else
        echo "[hwflow] warning: g++ not found; it is needed only for firmware C simulation (e.g. apt-get install g++)" >&2
    fi
    return 0
}

_hwflow_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    # Executed, not sourced.
    _hwflow_env_main "$_hwflow_root"
    exit $?
fi

# Sourced: run the set-up (an `if` keeps the caller's `set -e` out of it), then
# activate .venv for the calling shell.
if _hwflow_env_main "$_hwflow_root"; then
    _hwflow_rc=0
    case ":$PATH:" in
        *":$_hwflow_root/.venv/bin:"*) ;;
        *) PATH="$_hwflow_root/.venv/bin:$PATH" ;;
    esac
    VIRTUAL_ENV="$_hwflow_root/.venv"
    export PATH VIRTUAL_ENV
else
    _hwflow_rc=1
fi
unset -f _hwflow_env_main _hwflow_pyver _hwflow_pyexe
unset _hwflow_root
# `return` ends the sourcing with the status (an interactive shell survives a failure).
eval "unset _hwflow_rc; return $_hwflow_rc"
