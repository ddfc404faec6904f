#!/usr/bin/env bash
# The action's run step: builds the `aup conformance` command line from the INPUT_* variables action.yml sets,
# runs it and exits with its code (0 conformant, 1 not conformant, 2 usage error or incomplete; docs/ci.md).
set -euo pipefail

usage_error() {
  echo "aup conformance action: $1" >&2
  exit 2
}

[ -n "${INPUT_TARGET:-}" ] || usage_error "the target input is required (the SCIM base URL)"

args=(conformance --target "$INPUT_TARGET")
# The token travels in the environment, never on the command line where a process listing shows it.
if [ -n "${INPUT_TOKEN:-}" ]; then
  export AUP_SCIM_TOKEN="$INPUT_TOKEN"
fi
if [ -n "${INPUT_SUITES:-}" ]; then
  args+=(--suite "$INPUT_SUITES")
fi
case "${INPUT_STRICT:-false}" in
  true) args+=(--strict) ;;
  false | "") ;;
  *) usage_error "strict must be true or false, not '${INPUT_STRICT}'" ;;
esac
# --baseline and --jobs are passed only when set: unset, aup's own defaults apply.
if [ -n "${INPUT_BASELINE:-}" ]; then
  args+=(--baseline "$INPUT_BASELINE")
fi
if [ -n "${INPUT_JOBS:-}" ]; then
  [[ "$INPUT_JOBS" =~ ^[1-9][0-9]*$ ]] || usage_error "jobs must be a positive whole number, not '${INPUT_JOBS}'"
  args+=(--jobs "$INPUT_JOBS")
fi
for report in junit html json; do
  var="INPUT_${report^^}"
  if [ -n "${!var:-}" ]; then
    args+=("--$report" "${!var}")
  fi
done
if [ -n "${INPUT_ARGS:-}" ]; then
  read -r -a extra <<<"$INPUT_ARGS"
  args+=("${extra[@]}")
fi

echo "aup ${args[*]}"
status=0
aup "${args[@]}" || status=$?
exit "$status"
