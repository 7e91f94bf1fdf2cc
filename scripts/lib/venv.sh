# Sourced by the scripts: make (once) and activate .venv with the project installed.
# Installs the package with its test extra; reinstalls only when pyproject.toml or
# requirements.lock changed since the last install.
ensure_venv() {
  local extra="test" venv="$root/.venv" stamp want
  want="$( { cat "$root/pyproject.toml"; cat "$root/requirements.lock" 2>/dev/null || true; } | sha256sum | cut -c1-16)-$extra"
  stamp="$venv/.pulseox-installed"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2 || true
    if [ -f "$root/requirements.lock" ]; then
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/requirements.lock" >&2
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root${extra:+[$extra]}" >&2
    echo "$want" > "$stamp"
  fi
  # shellcheck disable=SC1091
  source "$venv/bin/activate"
}
