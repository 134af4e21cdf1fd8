# stats.sh: sourced by the benchmarks.
#   median N...              the median of the numbers
#   ratio_of "A..." "B..."   median(A) / median(B), then in brackets the
#                            median of the runs' own ratios A[i] / B[i]
#                            (runs made back to back: steadier on a busy
#                            machine); three decimals

median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }

ratio_of() {
    local -a as bs rs
    read -ra as <<<"$1"
    read -ra bs <<<"$2"
    for ((i = 0; i < ${#as[@]}; i++)); do
        rs+=("$(awk -v a="${as[i]}" -v b="${bs[i]}" 'BEGIN { printf "%.3f", a / b }')")
    done
    awk -v a="$(median "${as[@]}")" -v b="$(median "${bs[@]}")" 'BEGIN { printf "%.3f", a / b }'
    printf ' (%s)' "$(median "${rs[@]}")"
}
