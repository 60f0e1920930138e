#!/usr/bin/env bash
# Host tuning for latency measurements: shows what matters and, with --apply (as root), sets
# what can be set at run time. Without --apply it changes nothing.
#
#   scripts/host-tuning.sh                 # report
#   sudo scripts/host-tuning.sh --apply 1  # isolate core 1 (and up) for the hot threads
#
# At run time: the CPU frequency governor to `performance` on every core, transparent huge
# pages to `never` (khugepaged compaction stalls), and every movable IRQ away from the cores
# kept for Pulse. What needs a reboot is printed, not done: `isolcpus`, `nohz_full` and
# `rcu_nocbs` on the kernel command line for those cores. Pin the hot threads to them with
# `[[runtime.threads]] core = N` (configs/pinned.toml), and keep everything else off them.
set -uo pipefail

apply=0
first_hot=1
if [[ "${1:-}" == "--apply" ]]; then
  apply=1
  first_hot=${2:-1}
fi
cpus=$(nproc --all)
last=$((cpus - 1))
if (( first_hot > last )); then
  echo "host-tuning: this machine has $cpus core(s); nothing is left to isolate from core $first_hot" >&2
  first_hot=$last
fi
range() { if (( $1 == $2 )); then echo "$1"; else echo "$1-$2"; fi; }
hot=$(range "$first_hot" "$last")
house=$(range 0 $((first_hot > 0 ? first_hot - 1 : 0)))

say() { printf '%-28s %s\n' "$1" "$2"; }

echo "== host: $(uname -r), $cpus core(s), hot cores $hot, housekeeping $house"
say "kernel command line" "$(cat /proc/cmdline 2>/dev/null)"
for flag in isolcpus nohz_full rcu_nocbs; do
  if grep -q "$flag=" /proc/cmdline 2>/dev/null; then
    say "  $flag" "set"
  else
    say "  $flag" "not set (reboot with $flag=$hot)"
  fi
done

gov_files=(/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor)
if [[ -e "${gov_files[0]}" ]]; then
  say "cpu governor" "$(sort -u "${gov_files[@]}" | tr '\n' ' ')"
  if (( apply )); then
    for f in "${gov_files[@]}"; do echo performance > "$f" || echo "cannot set $f" >&2; done
    say "  now" "$(sort -u "${gov_files[@]}" | tr '\n' ' ')"
  fi
else
  say "cpu governor" "not exposed (a VM, or no cpufreq driver)"
fi

thp=/sys/kernel/mm/transparent_hugepage/enabled
if [[ -r $thp ]]; then
  say "transparent huge pages" "$(cat $thp)"
  if (( apply )); then
    echo never > "$thp" || echo "cannot set $thp" >&2
    say "  now" "$(cat $thp)"
  fi
fi

moved=0; stuck=0
for irq in /proc/irq/[0-9]*; do
  f="$irq/smp_affinity_list"
  [[ -w $f || $apply -eq 0 ]] || continue
  [[ -r $f ]] || continue
  if (( apply )); then
    if echo "$house" > "$f" 2>/dev/null; then moved=$((moved + 1)); else stuck=$((stuck + 1)); fi
  fi
done
if (( apply )); then
  say "irq affinity" "$moved moved to $house, $stuck not movable"
else
  say "irq affinity" "$(cat /proc/irq/default_smp_affinity 2>/dev/null) (default mask); --apply moves them to $house"
fi
say "swap" "$(awk 'NR > 1 { n++ } END { print (n ? n " device(s): consider swapoff -a" : "off") }' /proc/swaps)"
say "pulse-bench layouts" "pinned uses cores 0 and 1; with $cpus core(s) both layouts share the machine"
