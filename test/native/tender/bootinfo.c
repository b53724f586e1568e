/*
 * bootinfo [ARGS...]: prints what the tender handed over (boot struct, argv, NABLA_T*
 * environment, disk contents) and checks it: one "ok:"/"FAIL:" line per check, exit 1
 * on any failure.
 */
#include "guest.h"

extern char _nabla_start[];
static int failed;

static void check(int ok, const char *what)
{
	puts1(ok ? "ok: " : "FAIL: ");
	puts1(what);
	puts1("\n");
	failed |= !ok;
}

int nabla_main(const struct nabla_boot *boot, uint64_t *sp, uint64_t regs)
{
	uint64_t argc = sp[0], mem = boot->mem_size, want_stack = mem / 4 < (8 << 20) ? mem / 4 : (8 << 20);
	char **argv = (char **)&sp[1], **envp = argv + argc + 1, **e = envp;
	puts1("abi="), putu(boot->abi_version), puts1(" mem_size="), putu(mem), puts1(" image_end="),
		putx(boot->image_end), puts1(" stack_top="), putx(boot->stack_top), puts1("\ncwd="),
		puts1((const char *)boot->cwd), puts1("\nargc="), putu(argc), puts1("\n");
	for (uint64_t i = 0; i < argc; i++)
		puts1("argv: "), puts1(argv[i]), puts1("\n");
	for (; *e; e++)
		if (sprefix(*e, "NABLA_T"))
			puts1("env: "), puts1(*e), puts1("\n");
	uint64_t *aux = (uint64_t *)(e + 1), at[40] = { 0 };
	for (; aux[0] != AT_NULL; aux += 2)
		if (aux[0] < 40) at[aux[0]] = aux[1];

	check(regs == 0, "every GPR but rsp and rdi is zero at entry");
	check(((uint64_t)sp & 15) == 0, "rsp is 16-byte aligned");
	check((uint64_t)boot == NABLA_BOOT_ADDR, "rdi is the boot page");
	check(boot->abi_version == NABLA_ABI_VERSION, "abi_version");
	check(boot->mem_base == NABLA_GUEST_BASE && boot->va_size == mem + NABLA_VA_EXTRA &&
		      boot->stack_top == NABLA_GUEST_BASE + boot->va_size,
	      "mem_base, va_size, stack_top");
	if (boot->app_entry == 0) {
		check(1, "app_entry: 0 (the libOS is linked in)");
	} else { /* this guest is the libOS beside a program (--libos): where would it hand over? */
		puts1("app_entry="), putx(boot->app_entry), puts1("\n");
		check(boot->app_entry < boot->image_end, "app_entry inside the images");
	}
	check(boot->stack_size == want_stack, "stack_size is min(8 MiB, mem/4)");
	check((uint64_t)sp < boot->stack_top && (uint64_t)sp > boot->stack_top - 65536, "initial stack at the top");
	check(boot->image_end % 4096 == 0 && boot->image_end > (uint64_t)_nabla_start &&
		      boot->image_end <= boot->stack_top - boot->stack_size,
	      "image_end");
	if (boot->net_fd < 0) {
		check(boot->net_fd == -1 && boot->net_wait_fd == -1, "net_fd and net_wait_fd are -1");
	} else { /* --net: the tap and its epoll set, usable as the policy says */
		const uint8_t *m = boot->net_mac, *ip = (const uint8_t *)&boot->net_ip, *gw = (const uint8_t *)&boot->net_gw;
		puts1("net_fd="), putu((uint64_t)boot->net_fd), puts1(" net_wait_fd="), putu((uint64_t)boot->net_wait_fd),
			puts1(" mtu="), putu(boot->net_mtu), puts1(" mask="), putx(boot->net_mask), puts1("\nip=");
		for (int i = 0; i < 4; i++) putu(ip[i]), puts1(i < 3 ? "." : " gw=");
		for (int i = 0; i < 4; i++) putu(gw[i]), puts1(i < 3 ? "." : " mac=");
		for (int i = 0; i < 6; i++) {
			char hex[3] = { "0123456789abcdef"[m[i] >> 4], "0123456789abcdef"[m[i] & 15], 0 };
			puts1(hex), puts1(i < 5 ? ":" : "\n");
		}
		uint8_t frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		for (int i = 0; i < 6; i++) frame[6 + i] = m[i];
		frame[12] = 0x88, frame[13] = 0xb5; /* an experimental ethertype: the host drops it */
		check(sys(NR_write, boot->net_fd, frame, sizeof frame) == sizeof frame, "write(tap) sends a frame");
		long r = sys(NR_read, boot->net_fd, frame, sizeof frame);
		check(r == -11 /* EAGAIN */ || r > 0, "read(tap) does not block");
		uint64_t ev[2];
		r = sys6(NR_epoll_pwait, boot->net_wait_fd, (long)ev, 1, 0, 0, 0);
		check(r == 0 || r == 1, "epoll_pwait(the tap's set, 0 ms)");
	}
	int seeded = 0;
	for (int i = 0; i < 32; i++)
		seeded |= boot->seed[i];
	check(seeded != 0, "seed is random");
	check(boot->cwd > NABLA_BOOT_ADDR && boot->cwd < NABLA_BOOT_ADDR + NABLA_BOOT_SIZE, "cwd on the boot page");
	puts1("at_base="), putx(at[AT_BASE]), puts1(" at_entry="), putx(at[AT_ENTRY]), puts1("\n");
	if (at[AT_BASE] == 0) { /* no dynamic loader */
		check(at[AT_ENTRY] == (uint64_t)_nabla_start || at[AT_ENTRY] == boot->app_entry,
		      "AT_ENTRY is the program's entry");
	} else { /* --interp: the loader above the images, on 2 MiB; the libOS hands over to it */
		check(at[AT_BASE] % (2 << 20) == 0 && at[AT_BASE] > at[AT_ENTRY] && at[AT_BASE] < boot->image_end,
		      "AT_BASE: the loader, above the program, on a 2 MiB boundary");
		check(boot->app_entry > at[AT_BASE] && boot->app_entry < boot->image_end, "app_entry: the loader's entry");
	}
	/* The program's own file, mapped read-only by the tender (run.sh starts it by its real path). */
	const uint8_t *exe = (const uint8_t *)boot->exe_addr;
	check(boot->exe_path > boot->cwd && boot->exe_path < NABLA_BOOT_ADDR + NABLA_BOOT_SIZE &&
		      seq((const char *)boot->exe_path, argv[0]),
	      "exe_path on the boot page, the program's path");
	check(boot->exe_size > 4096 && exe && exe[0] == 0x7f && exe[1] == 'E' && exe[2] == 'L' && exe[3] == 'F',
	      "exe_addr maps the program's file");
	if (boot->exe_size > 4096 && exe) { /* a fault here fails the case */
		volatile uint8_t last = ((const volatile uint8_t *)exe)[boot->exe_size - 1];
		(void)last;
		check(1, "the mapping is readable to the file's end");
	}
	check(boot->exe_addr + boot->exe_size <= boot->mem_base || boot->exe_addr >= boot->stack_top,
	      "the file's mapping lies outside the guest region");
	check(boot->exe_mtime > 1600000000, "exe_mtime");
	/* The container's host name on the boot page, its /etc files outside the region (--etc-from). */
	if (boot->hostname) {
		puts1("hostname="), puts1((const char *)boot->hostname), puts1("\n");
		check(boot->hostname > boot->exe_path && boot->hostname < NABLA_BOOT_ADDR + NABLA_BOOT_SIZE,
		      "hostname on the boot page");
	}
	const struct nabla_file *etc = (const struct nabla_file *)boot->etc_files;
	for (uint64_t i = 0; i < boot->etc_count; i++) {
		puts1("etc: "), puts1((const char *)etc[i].path), puts1(" "), putu(etc[i].size), puts1(" bytes\n");
		sys(NR_write, 1, etc[i].data, etc[i].size);
		check(etc[i].mtime > 1600000000, "the /etc file's mtime");
		check(etc[i].data + etc[i].size <= boot->mem_base || etc[i].data >= boot->stack_top,
		      "the /etc file lies outside the guest region");
	}
	/* The segments are mapped from the file: what follows .data in the file's last page of
	 * it (other sections) must not show through in .bss. */
	static volatile uint8_t bss[8192];
	int dirty = 0;
	for (size_t i = 0; i < sizeof bss; i++)
		dirty |= bss[i];
	static volatile uint64_t data = 0x5a5a5a5a5a5a5a5aULL;
	check(!dirty && data == 0x5a5a5a5a5a5a5a5aULL, "bss is zero, data has its value");
	check(at[AT_PAGESZ] == 4096, "AT_PAGESZ");
	check(at[AT_PHDR] >= 0x400000 && at[AT_PHDR] < boot->image_end && *(uint32_t *)at[AT_PHDR] != 0, "AT_PHDR");
	check(at[AT_EXECFN] == (uint64_t)argv[0], "AT_EXECFN is argv[0]");
	const uint8_t *rnd = (const uint8_t *)at[AT_RANDOM];
	int r = 0;
	for (int i = 0; rnd && i < 16; i++)
		r |= rnd[i];
	check(rnd && (uint64_t)rnd > (uint64_t)sp && (uint64_t)rnd < boot->stack_top && r, "AT_RANDOM");
	/* The host's vDSO where it has one (all x86-64 Linux does): an ELF image outside guest memory. */
	const uint8_t *vdso = (const uint8_t *)at[AT_SYSINFO_EHDR];
	check(vdso && vdso[0] == 0x7f && vdso[1] == 'E' && vdso[2] == 'L' && vdso[3] == 'F' &&
		      ((uint64_t)vdso < boot->mem_base || (uint64_t)vdso >= boot->mem_base + boot->va_size),
	      "AT_SYSINFO_EHDR is the host's vDSO");
	struct timespec_ rt = { 0, 0 }, mono = { 0, 0 };
	check(sys(NR_clock_gettime, 0, &rt, 0) == 0 && rt.sec > 1600000000, "clock_gettime(REALTIME)");
	check(sys(NR_clock_gettime, 1, &mono, 0) == 0 && (mono.sec | mono.nsec), "clock_gettime(MONOTONIC)");
	check(sys(NR_write, 2, "stderr\n", 7) == 7, "write(2)");
	/* The disk: mapped read-only outside the region, its fd closed (nabla_abi.h). */
	check(boot->disk_fd == -1, "disk_fd is -1");
	check(!boot->disk_size == !boot->disk_addr, "disk_addr set exactly when the disk has bytes");
	if (boot->disk_size) {
		const char *disk = (const char *)boot->disk_addr;
		check(boot->disk_addr + boot->disk_size <= boot->mem_base || boot->disk_addr >= boot->mem_base + 2 * boot->va_size,
		      "the disk is mapped outside the guest region");
		char buf[65];
		long n = 0;
		while ((uint64_t)n < boot->disk_size && n < 64 && disk[n] != '\n') {
			buf[n] = disk[n];
			n++;
		}
		buf[n] = 0;
		puts1("disk_size="), putu(boot->disk_size), puts1(" disk: "), puts1(buf), puts1("\n");
	}
	return failed;
}
