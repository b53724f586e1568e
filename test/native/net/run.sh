#!/bin/bash
# run.sh OUT — the network end to end, inside the c toolchain image, in a network namespace
# of its own with CAP_NET_ADMIN and /dev/net/tun (docker run --network none --cap-add
# NET_ADMIN --cap-add SYS_PTRACE --device /dev/net/tun). Makes tap0 (10.77.0.1/24, the
# host side), builds the fixtures with nabla-cc (examples/http-c, test/fixtures/net-c), a host-side
# peer with gcc and the tender's test guests, then runs the unikernels on the tap with
# `nabla-run --net=tap0 --net-ip=10.77.0.2/24` against curl, ab, wrk and the peer.
# One line per case: "ok CASE[: detail]", "FAIL CASE: why" or "skip CASE: why"; numbers
# worth keeping as "# measure NAME: VALUE"; the last line is "N passed, N failed".
# $NABLA_RUN: the tender (default: the toolchain's).
set -u
OUT=$(mkdir -p "$1" && cd "$1" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
R=${NABLA_RUN:-/opt/nabla/bin/nabla-run}
NET="--net=tap0 --net-ip=10.77.0.2/24 --net-gw=10.77.0.1"
URL=http://10.77.0.2
LOG=$OUT/log
passed=0
failed=0
mkdir -p "$LOG"
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null' EXIT

result() { # result NAME OK DETAIL
    if [ "$2" = 1 ]; then
        echo "ok $1${3:+: $3}"
        passed=$((passed + 1))
    else
        echo "FAIL $1: $3"
        failed=$((failed + 1))
    fi
}
oneline() { head -c "${2:-400}" "$1" | tr '\n' '|'; }

# expect NAME STATUS OUTFILE LINE...: the command's exit status and lines it must print
# (a line starting with ! must not appear).
expect() {
    name=$1 want=$2 file=$3 got=$4
    shift 4
    why=
    [ "$got" = "$want" ] || why="exit $got, want $want"
    for line in "$@"; do
        case $line in
        !*) ! grep -qF -- "${line#!}" "$file" || why="${why:+$why; }has '${line#!}'" ;;
        *) grep -qF -- "$line" "$file" || why="${why:+$why; }no '$line'" ;;
        esac
    done
    if [ -z "$why" ]; then result "$name" 1; else result "$name" 0 "$why; output: $(oneline "$file")"; fi
}
# run_case NAME STATUS "LINES" CMD...: runs CMD (timeout 60 s), then expect.
run_case() {
    name=$1 want=$2 lines=$3
    shift 3
    (timeout 60 "$@") >"$LOG/$name" 2>&1 # a subshell: a guest's "Bad system call" goes to the log
    got=$?
    local IFS='
'
    # shellcheck disable=SC2086
    expect "$name" "$want" "$LOG/$name" "$got" $lines
}

# start NAME CMD...: runs a server in the background until it prints its first line.
start() {
    name=$1
    shift
    "$@" >"$LOG/$name" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        [ -s "$LOG/$name" ] && return 0
        kill -0 $pid 2>/dev/null || break
        sleep 0.05
    done
    return 1
}

# ---- 1. the tap and the programs ----
if ip tuntap add dev tap0 mode tap && ip addr add 10.77.0.1/24 dev tap0 && ip link set tap0 up; then
    result tap-setup 1 "tap0 10.77.0.1/24"
else
    result tap-setup 0 "cannot make tap0 (needs CAP_NET_ADMIN and /dev/net/tun)"
    echo "$passed passed, $failed failed"
    exit 1
fi
B=$OUT/bin
mkdir -p "$B"
build() { # build NAME CMD...
    name=$1
    shift
    if "$@" >"$LOG/build-$name" 2>&1; then return 0; fi
    result "build-$name" 0 "$(oneline "$LOG/build-$name" 600)"
    return 1
}
build http nabla-cc -O2 -o "$B/http" "$REPO/examples/http-c/http.c"
build nettool nabla-cc -O2 -o "$B/nettool" "$REPO/test/fixtures/net-c/nettool.c"
build peer gcc -O2 -Wall -o "$B/peer" "$HERE/peer.c"
T=$REPO/test/native/tender
for g in bootinfo escape sleep; do
    build "$g" gcc -static -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie -O2 \
        -fno-asynchronous-unwind-tables -Wl,-e,_nabla_start -I"$REPO/native/include" -I"$T" \
        -o "$B/$g" "$T/start.S" "$T/$g.c"
done

# ---- 2. the tender with a tap ----
# The largest policy: a network, on a host without FSGSBASE (host-call mode), with the
# heap's two calls: 11 calls.
NABLA_FS_BASE=host-call "$R" --print-policy $NET >"$LOG/policy" 2>&1
n=$(wc -l <"$LOG/policy")
expect policy-at-most-11 0 "$LOG/policy" "$([ "$n" -le 11 ] && echo 0 || echo "$n lines")" \
    "write fd=1|2|<net>|<dns>" "read fd=<net>|<dns>" "epoll_pwait fd=<netwait>" "arch_prctl code=ARCH_SET_FS" "mprotect prot=" "mmap flags="
run_case bootinfo-net 0 "net_fd=4 net_wait_fd=5 mtu=1500 mask=0xffffff
ip=10.77.0.2 gw=10.77.0.1 mac=02:6e:0a:4d:00:02
ok: write(tap) sends a frame
ok: epoll_pwait(the tap's set, 0 ms)
!FAIL" "$R" $NET "$B/bootinfo"
run_case bootinfo-net-mac 0 "mac=02:aa:bb:cc:dd:0e
!FAIL" "$R" $NET --net-mac=02:AA:bb:cc:dd:0e "$B/bootinfo"
for c in read-fd0 read-fd5 write-fd5 epoll-pwait-fd4 epoll-ctl socket; do
    run_case "escape-$c" 159 "trying $c
!ESCAPED" "$R" $NET "$B/escape" "$c"
done
# Taps that cannot be had: in use, a tun, down, not ours; and one made for a user.
"$R" $NET "$B/sleep" 20000 >"$LOG/sleeper" 2>&1 &
sleep 0.5
run_case net-busy 125 "nabla-run: --net=tap0: the tap is in use by another process" "$R" $NET "$B/bootinfo"
kill %% 2>/dev/null
wait 2>/dev/null
ip tuntap add dev tun7 mode tun && ip link set tun7 up
run_case net-tun 125 "nabla-run: --net=tun7: not a tap interface (a tun, or another kind of device)" \
    "$R" --net=tun7 --net-ip=10.77.0.2/24 "$B/bootinfo"
ip tuntap add dev tapdown mode tap
run_case net-down 125 "nabla-run: --net=tapdown: the interface is down (ip link set tapdown up)" \
    "$R" --net=tapdown --net-ip=10.77.0.2/24 "$B/bootinfo"
nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
run_case net-eacces 125 "nabla-run: --net=tap0: no permission to open /dev/net/tun (run as root, or give this user access to it)" \
    $nobody "$R" $NET "$B/bootinfo"
chmod 0666 /dev/net/tun
# A tap with an owner is only for its owner (or CAP_NET_ADMIN); one without, for anyone
# who may open /dev/net/tun.
ip tuntap add dev tapo mode tap user 0 && ip link set tapo up
run_case net-eperm 125 "nabla-run: --net=tapo: attaching to the tap needs CAP_NET_ADMIN (docker run --cap-add NET_ADMIN)" \
    $nobody "$R" --net=tapo --net-ip=10.79.0.2/24 "$B/bootinfo"
ip tuntap add dev tapu mode tap user 65534 && ip link set tapu up
run_case net-tap-made-for-the-user 0 "net_fd=4 net_wait_fd=5
frames the unikernel writes are not checked
!FAIL" $nobody "$R" --net=tapu --net-ip=10.78.0.2/24 "$B/bootinfo"
chmod 0600 /dev/net/tun

# ---- 3. an HTTP server in the unikernel ----
# alphabet N: N bytes of the alphabet over and over (what /bytes/N serves); alphabet_md5: of 3,000,000.
alphabet() {
    awk -v len="$1" 'BEGIN { s = ""; for (i = 0; i < 26; i++) s = s sprintf("%c", 97 + i);
                 for (n = 0; n + 26 <= len; n += 26) printf "%s", s; printf "%s", substr(s, 1, len - n) }'
}
alphabet_md5() { alphabet 3000000 | md5sum | cut -d' ' -f1; }
# http_checks MODE PORT: curl, then ab with and without keep-alive; leaves the server running.
http_checks() {
    mode=$1 port=$2
    if ! start "http-$mode" "$R" $NET "$B/http" "$port" "$mode"; then
        result "http-$mode-starts" 0 "$(oneline "$LOG/http-$mode")"
        return 1
    fi
    result "http-$mode-starts" 1
    curl -sS -m 10 "$URL:$port/" >"$LOG/curl-$mode" 2>&1
    expect "http-$mode-curl" 0 "$LOG/curl-$mode" $? "hello from a nabla unikernel"
    code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$URL:$port/nope" 2>&1)
    big=$(curl -sS -m 20 "$URL:$port/bytes/3000000" | md5sum | cut -d' ' -f1)
    want=$(alphabet_md5)
    result "http-$mode-404-and-3mb" "$([ "$code" = 404 ] && [ "$big" = "$want" ] && echo 1)" "404: $code, 3 MB body md5 $big (want $want)"
    ab -k -n 10000 -c 32 "$URL:$port/" >"$LOG/ab-k-$mode" 2>&1
    expect "http-$mode-10000-requests-c32-keepalive" 0 "$LOG/ab-k-$mode" $? "Complete requests:      10000" \
        "Failed requests:        0" "!Non-2xx"
    echo "# measure ab -k -n 10000 -c 32 ($mode): $(awk '/Requests per second/ { print $4 }' "$LOG/ab-k-$mode") requests/s"
    ab -n 3000 -c 32 "$URL:$port/" >"$LOG/ab-$mode" 2>&1
    expect "http-$mode-3000-connections-c32" 0 "$LOG/ab-$mode" $? "Complete requests:      3000" \
        "Failed requests:        0" "!Non-2xx"
    echo "# measure ab -n 3000 -c 32, a connection each ($mode): $(awk '/Requests per second/ { print $4 }' "$LOG/ab-$mode") requests/s"
}
wrk_check() { # wrk_check MODE PORT
    wrk -t2 -c32 -d3s --latency "$URL:$2/" >"$LOG/wrk-$1" 2>&1
    expect "http-$1-wrk-c32" 0 "$LOG/wrk-$1" $? "Requests/sec:" "!Socket errors" "!Non-2xx"
    echo "# measure wrk -t2 -c32 -d3s ($1): $(awk '/Requests\/sec/ { print $2 }' "$LOG/wrk-$1") requests/s, p99 $(awk '$1 == "99%" { print $2 }' "$LOG/wrk-$1")"
}
quit_check() { # quit_check MODE PORT: /quit answers and the unikernel exits 0
    curl -sS -m 10 "$URL:$2/quit" >"$LOG/quit-$1" 2>&1
    wait %% 2>/dev/null
    expect "http-$1-quit-exits-0" 0 "$LOG/quit-$1" $? "bye"
}
if http_checks threads 8080; then
    wrk_check threads 8080
    quit_check threads 8080
fi
if http_checks epoll 8081; then
    wrk_check epoll 8081
    quit_check epoll 8081
fi

# ---- 4. clients in the unikernel, servers on the host side, and UDP both ways ----
start peer-tcp "$B/peer" tcp-echo 9000
run_case tcp-client-to-the-host 0 "connected from 10.77.0.2:
to 10.77.0.1:9000
received: echo: hello over tcp" "$R" $NET "$B/nettool" tcp-echo 10.77.0.1 9000 "hello over tcp"
wait %% 2>/dev/null
run_case tcp-client-refused 0 "ECONNREFUSED" "$R" $NET "$B/nettool" tcp-refused 10.77.0.1 9
start peer-udp "$B/peer" udp-echo 9001
run_case udp-out-and-back 0 "reply: echo: ping from 10.77.0.1:9001" "$R" $NET "$B/nettool" udp-client 10.77.0.1 9001 ping
wait %% 2>/dev/null
start nettool-udp "$R" $NET "$B/nettool" udp-server 9002 1
run_case udp-in-and-back 0 "reply: echo: pong" "$B/peer" udp-send 10.77.0.2 9002 pong
wait %% 2>/dev/null
expect udp-server-in-the-unikernel 0 "$LOG/nettool-udp" $? "answered 10.77.0.1:"

# ---- 5. a hostile guest's own frames: only the unikernel's MAC and address leave the tap ----
# nettool writes each frame through the libOS's hypercall code, past its network stack, and
# holds the tap 2 s. The kernel on tap0 answers an ARP request by learning its sender: a
# neighbour entry (looked at while the tap is up) is the sign that one got through. The own
# frames show that the check lets the right ones by.
ip neigh flush dev tap0
start peer-frames "$B/peer" udp-listen 9003 12
for kind in own foreign-ip foreign-mac foreign-vlan arp-own arp-foreign-ip; do
    start "frame-$kind" "$R" $NET "$B/nettool" frame $kind 10.77.0.2 10.77.0.1 9003
    ip neigh show dev tap0 >"$LOG/neigh-$kind" 2>&1
    wait $pid
    expect "frame-$kind-written" 0 "$LOG/frame-$kind" $? "wrote $kind: "
done
wait %% 2>/dev/null
expect frame-own-arrives 0 "$LOG/peer-frames" 0 "got: frame own"
expect frames-from-another-address-or-mac-are-dropped 0 "$LOG/peer-frames" 0 "!got: frame foreign"
expect arp-own-arrives 0 "$LOG/neigh-arp-own" 0 "10.77.0.2 lladdr 02:6e:0a:4d:00:02"
expect arp-for-another-address-is-dropped 0 "$LOG/neigh-arp-foreign-ip" 0 "!10.77.0.42 "

# ---- 6. --net-from: the tap joined to an interface by tc redirects, no bridge ----
# A veth pair stands for a container's eth0 (vc) and its host end (vh, 10.78.0.1). Each run
# takes vc's address (given back before the next); the unikernel takes vc's MAC and MTU.
NF_URL=http://10.78.0.2:8083
nf_address() { ip addr add 10.78.0.2/24 dev vc 2>/dev/null; }
if ip link add vh type veth peer name vc && ip link set vc mtu 1400 && ip addr add 10.78.0.1/24 dev vh &&
    ip link set vh up && ip link set vc up; then
    vc_mac=$(cat /sys/class/net/vc/address)
    nf_address
    run_case netfrom-takes-the-interfaces-mac-and-mtu 0 "mtu=1400
ip=10.78.0.2 gw=0.0.0.0 mac=$vc_mac
!FAIL" "$R" --net-from=vc "$B/bootinfo"
    nf_address
    if start netfrom-http "$R" --net-from=vc "$B/http" 8083 threads; then
        curl -sS -m 10 "$NF_URL/" >"$LOG/netfrom-curl" 2>&1
        expect netfrom-http-curl 0 "$LOG/netfrom-curl" $? "hello from a nabla unikernel"
        big=$(curl -sS -m 20 "$NF_URL/bytes/3000000" | md5sum | cut -d' ' -f1)
        result netfrom-http-3mb "$([ "$big" = "$(alphabet_md5)" ] && echo 1)" "3 MB body md5 $big (want $(alphabet_md5))"
        ab -n 2000 -c 32 "$NF_URL/" >"$LOG/netfrom-ab" 2>&1
        expect netfrom-http-2000-connections-c32 0 "$LOG/netfrom-ab" $? "Complete requests:      2000" \
            "Failed requests:        0" "!Non-2xx"
        echo "# measure ab -n 2000 -c 32, a connection each (--net-from): $(awk '/Requests per second/ { print $4 }' "$LOG/netfrom-ab") requests/s"
        ip neigh show 10.78.0.2 dev vh >"$LOG/netfrom-neigh" 2>&1
        expect netfrom-answers-with-the-interfaces-mac 0 "$LOG/netfrom-neigh" 0 "lladdr $vc_mac"
        { ip -d link show; tc filter show dev vc ingress; tc filter show dev nabla0 ingress; } >"$LOG/netfrom-links" 2>&1
        expect netfrom-mirred-not-a-bridge 0 "$LOG/netfrom-links" 0 "mirred (Egress Redirect to device nabla0)" \
            "mirred (Egress Redirect to device vc)" "!bridge"
        curl -sS -m 10 "$NF_URL/quit" >/dev/null 2>&1
        wait %% 2>/dev/null
    else
        result netfrom-http-starts 0 "$(oneline "$LOG/netfrom-http")"
    fi
    # The host's bulk sends (segmentation offload on the veth: frames up to 64 KiB) reach
    # the unikernel cut to the tap's MTU.
    nf_address
    if start netfrom-sink "$R" --net-from=vc "$B/nettool" tcp-sink 9005; then
        alphabet 3000000 >/dev/tcp/10.78.0.2/9005
        wait $pid
        expect netfrom-host-bulk-send-arrives-whole 0 "$LOG/netfrom-sink" $? "received 3000000 bytes, 0 out of place"
    else
        result netfrom-host-bulk-send-arrives-whole 0 "$(oneline "$LOG/netfrom-sink")"
    fi
    # A hostile guest behind the redirect: only its own frames leave through vc.
    start peer-netfrom-frames "$B/peer" udp-listen 9004 12
    for kind in own foreign-ip foreign-mac foreign-vlan arp-own arp-foreign-ip; do
        ip neigh flush dev vh
        nf_address
        start "netfrom-frame-$kind" "$R" --net-from=vc "$B/nettool" frame $kind 10.78.0.2 10.78.0.1 9004
        ip neigh show dev vh >"$LOG/netfrom-neigh-$kind" 2>&1
        wait $pid
        expect "netfrom-frame-$kind-written" 0 "$LOG/netfrom-frame-$kind" $? "wrote $kind: "
    done
    wait %% 2>/dev/null
    expect netfrom-frame-own-arrives 0 "$LOG/peer-netfrom-frames" 0 "got: frame own"
    expect netfrom-frames-from-another-address-or-mac-are-dropped 0 "$LOG/peer-netfrom-frames" 0 "!got: frame foreign"
    expect netfrom-arp-own-arrives 0 "$LOG/netfrom-neigh-arp-own" 0 "10.78.0.2 lladdr $vc_mac"
    expect netfrom-arp-for-another-address-is-dropped 0 "$LOG/netfrom-neigh-arp-foreign-ip" 0 "!10.78.0.42 "
else
    result netfrom-setup 0 "cannot make the veth pair vh/vc"
fi
# An interface no container network gives (a bridge here, the host's NIC under --network
# host) is refused before anything changes: it keeps its address, and no tap is made.
ip link del nabla0 2>/dev/null # the persistent tap of the runs above
if ip link add hw0 type bridge && ip addr add 10.79.0.2/24 dev hw0 && ip link set hw0 up; then
    run_case netfrom-refuses-an-interface-no-container-network-gives 125 "--net-from=hw0: not a container's interface (its driver is bridge;
docker run --network host" "$R" --net-from=hw0 "$B/bootinfo"
    { ip -4 addr show dev hw0; ip link show nabla0; } >"$LOG/netfrom-hw0-after" 2>&1
    expect netfrom-refused-interface-keeps-its-address-and-no-tap-is-made 0 "$LOG/netfrom-hw0-after" 0 "inet 10.79.0.2/24" \
        "does not exist"
    ip link del hw0
else
    result netfrom-refuses-setup 0 "cannot make the bridge hw0"
fi

# ---- 7. strace: a serving unikernel makes only the whitelisted host calls ----
if command -v strace >/dev/null 2>&1 && strace -o /dev/null true 2>/dev/null; then
    strace -f -o "$LOG/strace" "$R" $NET "$B/http" 8082 threads >"$LOG/http-strace" 2>&1 &
    for _ in $(seq 100); do [ -s "$LOG/http-strace" ] && break; sleep 0.05; done
    for i in 1 2 3 4 5; do curl -sS -m 10 "$URL:8082/" >/dev/null 2>&1; done
    ab -k -n 200 -c 8 "$URL:8082/" >/dev/null 2>&1
    curl -sS -m 10 "$URL:8082/quit" >/dev/null 2>&1
    wait %% 2>/dev/null
    after=$(awk '/seccomp\(SECCOMP_SET_MODE_FILTER/ { on = 1; next }
                 on && $2 ~ /^[a-z_0-9]+\(/ { $1 = ""; print substr($0, 2) }' "$LOG/strace")
    names=$(echo "$after" | sed 's/(.*//' | sort -u | tr '\n' ' ')
    # Hosts without FSGSBASE also set thread pointers on the host (ARCH_SET_FS only).
    fs=
    "$R" --print-policy | grep -q '^arch_prctl' && fs='|arch_prctl'
    bad=$(echo "$names" | tr ' ' '\n' | grep -vxE "write|read|epoll_pwait|clock_gettime|ppoll|exit_group|rt_sigreturn|mprotect|mmap$fs|" | tr '\n' ' ')
    # Each call on its own fd: read and write on the tap (4), the console (1, 2), the wait on 5;
    # the heap's calls as pinned: read-write pages, or pages given back.
    stray=$(echo "$after" | grep -vE "^(read\\(4,|write\\((1|2|4),|epoll_pwait\\(5,|clock_gettime\\(|ppoll\\(NULL, 0,|exit_group\\(|rt_sigreturn\\(|mprotect\\(0x[0-9a-f]+, [0-9]+, PROT_READ\\|PROT_WRITE\\)|mmap\\(0x[0-9a-f]+, [0-9]+, PROT_NONE, MAP_PRIVATE\\|MAP_FIXED\\|MAP_ANONYMOUS\\|MAP_NORESERVE, -1, 0\\)${fs:+|arch_prctl\\(ARCH_SET_FS,})" | head -3 | tr '\n' ' ')
    ok=0
    [ -n "$names" ] && [ -z "$bad" ] && [ -z "$stray" ] && echo "$names" | grep -q 'read ' && echo "$names" | grep -q 'epoll_pwait' && ok=1
    result strace-only-whitelisted-calls $ok "after seccomp(): ${names}${bad:+(not allowed: $bad)}${stray:+(other fds: $stray)}"
    echo "# measure host calls after seccomp while serving 205 requests: $(echo "$after" | wc -l)"
else
    echo "skip strace-only-whitelisted-calls: strace cannot trace here (needs CAP_SYS_PTRACE)"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
