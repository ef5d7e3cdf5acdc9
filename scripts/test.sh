#!/usr/bin/env bash
# The whole test suite, stage by stage, with a timing summary at the end.
#
#   scripts/test.sh                 every stage
#   scripts/test.sh --quick         lint, specs, unit, sanity and the quick scenario (make test-quick)
#   scripts/test.sh lint unit       only the named stages
#   MOLECULE_SCENARIOS="quick" scripts/test.sh molecule
#
# Stages: lint specs unit sanity build pipelines engine images molecule; the default list runs lint,
# specs and unit through the pipelines stage (the .gitlab-ci.yml jobs lint and unit, run for real by
# gitlab-ci-local) instead of on their own. Every requested stage runs even
# when an earlier one failed (molecule needs engine and images); the exit status is 1 if any failed.
# The stages that need no test host (lint specs unit sanity build) run beside those that do (engine
# images molecule), at a lower CPU priority, their output kept in .cache/logs/checks.log and printed at the end;
# LANYING_TEST_LANES=1 runs every stage one after the other instead. Scenarios run beside each other
# too (LANYING_MOLECULE_JOBS, below).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

all_stages=(pipelines sanity build engine images molecule)
if [ "${1:-}" = --quick ]; then
  shift
  set -- lint specs unit sanity engine images molecule
  # The quick scenario needs the Debian 12 test host only. The unit tests that run ansible-playbook
  # (tests/unit/playbooks: most of the unit stage's time) are left to make test.
  export MOLECULE_SCENARIOS=quick LANYING_TESTHOST_SUITES=bookworm LANYING_BASE_IMAGES=0 \
    LANYING_UNIT_IGNORE=collections/ansible_collections/lanying/im/tests/unit/playbooks
fi
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")

"$root/scripts/venv.sh" || exit 1
# shellcheck disable=SC1091
source "$root/.venv/bin/activate"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1

stage_lint() {
  ansible-lint --profile production --offline -q && yamllint -s .
}
stage_specs() { python scripts/check-argument-specs.py; }
stage_unit() {
  python -m pytest -q collections/ansible_collections/lanying/im/tests/unit \
    ${LANYING_UNIT_IGNORE:+--ignore="$LANYING_UNIT_IGNORE"}
}
stage_sanity() { scripts/sanity.sh; }
stage_build() { scripts/check-collection-build.sh && python scripts/docs.py --check; }
# The CI definitions: .gitlab-ci.yml checked against GitLab's schema with every job listed, its lint and
# unit jobs run for real (shell executor), the Jenkinsfile linted. Node.js and Java are the machine's;
# the tools come from the npm registry once (scripts/ci-tools/package-lock.json).
stage_pipelines() {
  local tools=scripts/ci-tools bin=scripts/ci-tools/node_modules/.bin jobs missing=()
  # Only what is missing: a machine's own Node.js (not Debian's) conflicts with Debian's npm package.
  command -v rsync >/dev/null || missing+=(rsync)
  command -v npm >/dev/null || missing+=(npm)
  command -v java >/dev/null || missing+=(default-jre-headless)
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || return 1
  fi
  if ! cmp -s "$tools/package-lock.json" "$tools/node_modules/.package-lock.json.installed" 2>/dev/null; then
    (cd "$tools" && npm ci --silent --no-audit --no-fund) || return 1
    cp "$tools/package-lock.json" "$tools/node_modules/.package-lock.json.installed"
  fi
  "$bin/npm-groovy-lint" --failon warning --output txt Jenkinsfile || return 1
  jobs=$("$bin/gitlab-ci-local" --state-dir .cache/gitlab-ci-local --list-csv-all 2>/dev/null | cut -d';' -f1 | tail -n +2 | tr -d '"' | xargs)
  echo "[pipelines] .gitlab-ci.yml jobs: $jobs"
  local job
  for job in lint unit sanity collection plan:staging deploy:staging self-check:staging plan:production deploy:production; do
    [[ " $jobs " == *" $job "* ]] || { echo "[pipelines] .gitlab-ci.yml has no job $job" >&2; return 1; }
  done
  "$bin/gitlab-ci-local" --state-dir .cache/gitlab-ci-local --force-shell-executor --no-color lint unit
}
stage_engine() { scripts/ensure-docker.sh; }
# Test hosts and base images build side by side, downloading through the package cache.
# shellcheck disable=SC2086 # a list of suites
stage_images() {
  LANYING_APT_CACHE_PORT=$(scripts/ensure-apt-cache.sh)
  export LANYING_APT_CACHE_PORT
  if [ "${LANYING_BASE_IMAGES:-1}" = 0 ]; then
    molecule/testhost/build.sh ${LANYING_TESTHOST_SUITES:-}
  else
    molecule/testhost/build.sh --all ${LANYING_TESTHOST_SUITES:-}
  fi
}
# One scenario; appends its timing line. Its output goes to its log, and to stdout when $2 is "stream".
run_scenario() {
  local scenario=$1 start=$SECONDS result=ok log=".cache/logs/molecule-$1.log"
  if [ "${2:-}" = stream ]; then
    molecule test -s "$scenario" 2>&1 | tee "$log"
    [ "${PIPESTATUS[0]}" = 0 ] || result=FAILED
  else
    molecule test -s "$scenario" > "$log" 2>&1 || result=FAILED
  fi
  echo "  molecule/$scenario|$((SECONDS - start))s|$result" >> "$timings_file"
  [ "$result" = ok ]
}
# The last scenario (the longest: the platform) streams its output; with LANYING_MOLECULE_JOBS=2 (the
# default) the others run one after the other beside it, at a lower CPU priority, their output printed
# when it is done. The scenarios share nothing but the test-host images and the controller's caches,
# which they only read or fill with the same content. LANYING_MOLECULE_JOBS=1 (or LANYING_TEST_LANES=1) runs them in order.
stage_molecule() {
  local scenario status=0 beside_pid='' scenarios
  mkdir -p .cache/logs
  LANYING_APT_CACHE_PORT=$(scripts/ensure-apt-cache.sh)
  export LANYING_APT_CACHE_PORT
  read -r -a scenarios <<< "${MOLECULE_SCENARIOS:-$(molecule_scenarios | xargs)}"
  if [ "${LANYING_MOLECULE_JOBS:-${LANYING_TEST_LANES:-2}}" -gt 1 ] && [ ${#scenarios[@]} -gt 1 ]; then
    echo "==> molecule: ${scenarios[*]:0:${#scenarios[@]}-1} beside ${scenarios[-1]}; their output follows at the end"
    (
      # At a lower CPU priority, as the checks: the platform is the suite's critical path, and the
      # scenarios beside it have time to spare (their hosts' own processes keep the engine's priority).
      renice -n 10 -p "$BASHPID" >/dev/null
      beside_status=0
      for scenario in "${scenarios[@]:0:${#scenarios[@]}-1}"; do
        run_scenario "$scenario" || beside_status=1
      done
      exit $beside_status
    ) &
    beside_pid=$!
    run_scenario "${scenarios[-1]}" stream || status=1
    wait "$beside_pid" || status=1
    for scenario in "${scenarios[@]:0:${#scenarios[@]}-1}"; do
      echo
      echo "==> output of molecule/$scenario (.cache/logs/molecule-$scenario.log)"
      cat ".cache/logs/molecule-$scenario.log"
    done
  else
    for scenario in "${scenarios[@]}"; do
      run_scenario "$scenario" stream || status=1
    done
  fi
  return $status
}
# The quick scenario first, the platform last. The k3s scenario runs only where the k3s release's files
# are at hand (LANYING_K3S_AIRGAP_DIR); otherwise one line on stderr says it was skipped and why.
molecule_scenarios() {
  local file name dir=${LANYING_K3S_AIRGAP_DIR:-}
  [ -f molecule/quick/molecule.yml ] && echo quick
  for file in molecule/*/molecule.yml; do
    name=$(basename "$(dirname "$file")")
    if [ "$name" = k3s ] && ! { [ -n "$dir" ] && [ -f "$dir/k3s" ] && [ -f "$dir/sha256sum-amd64.txt" ] \
                                && [ -f "$dir/k3s-airgap-images-amd64.tar.zst" ]; }; then
      echo "[molecule] k3s: skipped - LANYING_K3S_AIRGAP_DIR does not name a directory with the k3s release's k3s, k3s-airgap-images-amd64.tar.zst and sha256sum-amd64.txt" >&2
      continue
    fi
    [ "$name" = quick ] || [ "$name" = platform ] || echo "$name"
  done
  [ -f molecule/platform/molecule.yml ] && echo platform
}

# Runs the given stages in order; each appends "stage|seconds|result" to $timings_file.
run_lane() {
  local stage status=0 start outcome
  for stage in "$@"; do
    if [ "$stage" = molecule ] && grep -qE '^(engine|images)\|.*\|FAILED$' "$timings_file"; then
      echo "molecule|0s|skipped (no engine or no test-host images)" >> "$timings_file"
      status=1
      continue
    fi
    echo "==> $stage"
    start=$SECONDS
    if "stage_$stage"; then outcome=ok; else outcome=FAILED; status=1; fi
    echo "$stage|$((SECONDS - start))s|$outcome" >> "$timings_file"
  done
  return $status
}

checks=()
host_stages=()
for stage in "${stages[@]}"; do
  if ! declare -F "stage_$stage" >/dev/null; then
    echo "unknown stage '$stage'; stages are: ${all_stages[*]}" >&2
    exit 2
  fi
  case $stage in
    engine|images|molecule) host_stages+=("$stage") ;;
    *) checks+=("$stage") ;;
  esac
done

mkdir -p .cache/logs
timings_file=$(mktemp)
trap 'rm -f "$timings_file"' EXIT
failed=0
suite_start=$SECONDS
if [ ${#checks[@]} -gt 0 ] && [ ${#host_stages[@]} -gt 0 ] && [ "${LANYING_TEST_LANES:-2}" != 1 ]; then
  echo "==> ${checks[*]} run beside ${host_stages[*]}: their output follows at the end (.cache/logs/checks.log)"
  # At a lower CPU priority: the stages with test hosts are the suite's critical path; the checks have
  # time to spare beside them, and take what the hosts leave.
  (renice -n 10 -p "$BASHPID" >/dev/null; run_lane "${checks[@]}") > .cache/logs/checks.log 2>&1 &
  checks_pid=$!
  run_lane "${host_stages[@]}" || failed=1
  wait "$checks_pid" || failed=1
  echo
  echo "==> output of ${checks[*]}"
  cat .cache/logs/checks.log
else
  run_lane "${stages[@]}" || failed=1
fi

# The first failure of each failed scenario again, next to the summary: a scenario's log is long, and the
# end of the output is what is read first.
for log in .cache/logs/molecule-*.log; do
  [ -f "$log" ] || continue
  scenario=${log#.cache/logs/molecule-}
  scenario=${scenario%.log}
  grep -qE "^  molecule/$scenario\|.*\|FAILED$" "$timings_file" || continue
  # The first task failure that was not ignored (an ignored one is followed by "...ignoring").
  line=$(python - "$log" <<'PY'
import re, sys
lines = open(sys.argv[1], errors="replace").read().split("\n")
for number, text in enumerate(lines):
    if re.search(r"(fatal|failed): \[", text) and not any("...ignoring" in later for later in lines[number + 1:number + 40]):
        print(number + 1)
        break
PY
)
  [ -n "$line" ] || continue
  echo
  echo "==> first failure in molecule/$scenario ($log, line $line)"
  sed -n "$((line > 30 ? line - 30 : 1)),$((line + 40))p" "$log" | cut -c1-400
done

echo
echo "==> summary (wall time by stage)"
{ cat "$timings_file"; echo "total|$((SECONDS - suite_start))s|$([ $failed = 0 ] && echo ok || echo FAILED)"; } \
  | column -t -s '|'
exit $failed
