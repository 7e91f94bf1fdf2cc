# Sourced by the scripts: make (once) and activate .venv with the project and its
# test extra installed. Versions come from requirements.lock (as constraints); if
# the registry cannot serve one of them, it says so and installs unpinned.
# Reinstalls only when pyproject.toml or requirements.lock changed since the last install.
ensure_venv() {
  local venv="$root/.venv" stamp want pip
  want="$( { cat "$root/pyproject.toml"; cat "$root/requirements.lock" 2>/dev/null || true; } | sha256sum | cut -c1-16)"
  stamp="$venv/.pulseox-installed"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
    if ! "${pip[@]}" -c "$root/requirements.lock" -e "$root[test]" >&2; then
      echo "warning: could not install the locked versions; installing unpinned" >&2
      "${pip[@]}" -e "$root[test]" >&2
    fi
    echo "$want" > "$stamp"
  fi
  # shellcheck disable=SC1091
  source "$venv/bin/activate"
}
