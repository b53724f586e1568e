# Shared by the bench scripts (sourced after they cd to the repository): how every table
# picks its figure and compares the two sides of one run.

# median FILE [COLUMN]: the middle line of FILE, lines ordered by COLUMN (default 1) as numbers.
median() { sort -n -k"${2:-1},${2:-1}" "$1" | sed -n "$((($(wc -l <"$1") + 1) / 2))p"; }

# ratio A B: A / B, as the tables print it ("1.23×").
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }

# size_mb IMAGE: the image's size in the engine, in MB.
size_mb() { docker image inspect -f '{{.Size}}' "$1" | awk '{ printf "%.1f", $1 / 1e6 }'; }
