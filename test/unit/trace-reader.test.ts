/** The trace reader of `measure`: the window, the lineage of tasks, and what counts as a kernel function. */
import { describe, expect, it } from 'vitest';
import { ContainerInitFinder, TraceReader } from '../../src/measure/trace-reader.js';

const event = (comm: string, pid: number, payload: string) => `${comm.padStart(16)}-${pid}     [001] d..2. 100.000001: ${payload}`;
const stack = (comm: string, pid: number, frames: string[]) => [event(comm, pid, '<stack trace>'), ...frames.map((f) => ` => ${f}`)];

function read(root: number, opensAt: 'exec' | 'filter', lines: string[]) {
  const reader = new TraceReader(root, opensAt);
  for (const line of lines) reader.line(line);
  return reader.result();
}

describe('TraceReader', () => {
  it('counts nothing of the root before its exec, then it and what it forks', () => {
    const summary = read(40, 'exec', [
      event('runc:[2:INIT]', 40, 'sys_mount(dev_name: 0, dir_name: 1)'),
      ...stack('runc:[2:INIT]', 40, ['do_mount', 'do_syscall_64']),
      event('http', 40, 'sched_process_exec: filename=/http pid=40 old_pid=40'),
      event('http', 40, 'sys_socket(family: 2, type: 1, protocol: 0)'),
      ...stack('http', 40, ['trace_event_raw_event_sys_enter', '__traceiter_sys_enter', 'syscall_trace_enter', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe']),
      event('http', 40, 'sched_process_fork: comm=http pid=40 child_comm=http child_pid=41'),
      event('http', 41, 'sys_read(fd: 4, buf: 7f00, count: 400)'),
      event('other', 99, 'sys_openat(dfd: 0, filename: 0, flags: 0, mode: 0)'),
      ...stack('other', 99, ['do_sys_openat2']),
    ]);
    expect(summary.opened).toBe(true);
    expect([...summary.tasks].sort()).toEqual([40, 41]);
    expect(Object.fromEntries(summary.syscalls)).toEqual({ socket: 1, read: 1 });
    expect([...summary.functions].sort()).toEqual(['do_syscall_64', 'entry_SYSCALL_64_after_hwframe', 'syscall_trace_enter']);
  });

  it('opens a nabla window when the tender\'s seccomp(SET_MODE_FILTER) has returned, not at runc\'s own filter', () => {
    const summary = read(7, 'filter', [
      event('runc:[2:INIT]', 7, 'sys_seccomp(op: 1, flags: 0, uargs: c000)'),
      event('runc:[2:INIT]', 7, 'sys_seccomp -> 0x0'),
      event('nabla-run', 7, 'sched_process_exec: filename=/nabla/nabla-run pid=7 old_pid=7'),
      event('nabla-run', 7, 'sys_openat(dfd: ffffff9c, filename: 4000, flags: 0, mode: 0)'),
      event('nabla-run', 7, 'sys_seccomp(op: 1, flags: 0, uargs: 7ffc)'),
      event('nabla-run', 7, 'sys_seccomp -> 0x0'),
      event('nabla-run', 7, 'sys_pread64(fd: 3, buf: 100000, count: 200, pos: 0)'),
    ]);
    expect(Object.fromEntries(summary.syscalls)).toEqual({ pread64: 1 });
  });

  it('leaves out the frames that are there only because the trace is on', () => {
    const summary = read(5, 'exec', [
      event('app', 5, 'sched_process_exec: filename=/app pid=5 old_pid=5'),
      ...stack('app', 5, ['trace_ignore_this_task', 'trace_pid_list_is_set', 'event_filter_pid_sched_wakeup_probe_post', 'try_to_wake_up']),
      ...stack('app', 5, ['__mmap_lock_do_trace_start_locking', 'lock_mm_and_find_vma', 'do_trace_write_msr', 'native_write_msr']),
      ...stack('app', 5, ['call_trace_sock_send_length.constprop.0', 'sock_sendmsg', 'mm_trace_rss_stat', 'do_anonymous_page']),
    ]);
    // mm_trace_rss_stat runs whether the trace is on or not: it stays.
    expect([...summary.functions].sort()).toEqual(['do_anonymous_page', 'lock_mm_and_find_vma', 'mm_trace_rss_stat', 'native_write_msr', 'sock_sendmsg', 'try_to_wake_up']);
  });

  it('keeps an interrupt\'s own frames and drops those it interrupted', () => {
    const summary = read(5, 'exec', [
      event('app', 5, 'sched_process_exec: filename=/app pid=5 old_pid=5'),
      ...stack('app', 5, ['__traceiter_hrtimer_expire_entry', 'hrtimer_interrupt', '__sysvec_apic_timer_interrupt', 'asm_sysvec_apic_timer_interrupt', 'copy_page_to_iter', 'filemap_read']),
      ...stack('app', 5, ['handle_mm_fault', 'exc_page_fault', 'asm_exc_page_fault', 'clear_user', 'load_elf_binary']),
    ]);
    expect([...summary.functions].sort()).toEqual(
      ['__sysvec_apic_timer_interrupt', 'asm_exc_page_fault', 'asm_sysvec_apic_timer_interrupt', 'clear_user', 'exc_page_fault', 'handle_mm_fault', 'hrtimer_interrupt', 'load_elf_binary'].sort(),
    );
    // Outside interrupts: only the page fault's stack, which the task caused.
    expect([...summary.taskFunctions].sort()).toEqual(['asm_exc_page_fault', 'clear_user', 'exc_page_fault', 'handle_mm_fault', 'load_elf_binary']);
  });

  it('leaves softirq work out of the figure outside interrupts', () => {
    const summary = read(5, 'exec', [
      event('app', 5, 'sched_process_exec: filename=/app pid=5 old_pid=5'),
      ...stack('app', 5, ['tcp_v4_rcv', 'net_rx_action', 'handle_softirqs', 'do_softirq', '__local_bh_enable_ip', 'tun_get_user', 'ksys_write']),
    ]);
    expect(summary.functions.size).toBe(7);
    expect([...summary.taskFunctions]).toEqual(['do_softirq', '__local_bh_enable_ip', 'tun_get_user', 'ksys_write']);
  });

  it('counts each function the function tracer saw the window\'s tasks enter', () => {
    const summary = read(5, 'exec', [event('app', 5, 'sched_process_exec: filename=/app pid=5 old_pid=5'), event('app', 5, 'ksys_read <-do_syscall_64'), event('app', 6, 'vfs_read <-ksys_read')]);
    expect([...summary.functions]).toEqual(['ksys_read']);
  });

  it('does not open without the root\'s exec', () => {
    expect(read(5, 'exec', [event('app', 5, 'sys_read(fd: 0, buf: 0, count: 0)')]).opened).toBe(false);
  });
});

/** What a ContainerInitFinder (for the container `containerId`) found in the lines. */
function execsFound(lines: string[], containerId?: string) {
  const finder = new ContainerInitFinder(containerId);
  for (const line of lines) finder.line(line);
  return finder.execs;
}

describe('ContainerInitFinder', () => {
  it('finds the processes runc started that exec\'d, with what they exec\'d', () => {
    const execs = execsFound([
      event('runc:[2:INIT]', 30, 'sys_close(fd: 3)'),
      event('hello', 30, 'sched_process_exec: filename=/nabla/nabla-run pid=30 old_pid=30'),
      event('bash', 31, 'sched_process_exec: filename=/bin/ls pid=31 old_pid=31'),
    ]);
    expect(execs).toEqual([{ pid: 30, filename: '/nabla/nabla-run', inContainer: false }]);
  });

  it('knows runc\'s init by the name its forks recorded, when every line shows the name it took at its exec (a lagging reader)', () => {
    const execs = execsFound([
      event('nabla-run', 30, 'sched_process_fork: comm=runc:[2:INIT] pid=30 child_comm=runc:[2:INIT] child_pid=31'),
      event('nabla-run', 30, 'sched_process_exec: filename=/nabla/nabla-run pid=30 old_pid=30'),
      event('sh', 40, 'sched_process_fork: comm=sh pid=40 child_comm=sh child_pid=41'),
      event('nabla-run', 40, 'sched_process_exec: filename=/nabla/nabla-run pid=40 old_pid=40'),
    ]);
    expect(execs).toEqual([{ pid: 30, filename: '/nabla/nabla-run', inContainer: false }]);
  });

  it('tells the container\'s own init from another container\'s started in the same moment, by its cgroup', () => {
    const id = 'd13315ee66d6';
    const attach = (pid: number, container: string) =>
      event('runc', 20, `cgroup_attach_task: dst_root=3 dst_id=1 dst_level=2 dst_path=/docker/${container}79c234 pid=${pid} comm=exe`);
    const execs = execsFound(
      [
        attach(40, 'aaaaaaaaaaaa'),
        attach(30, id),
        event('exe', 30, 'sched_process_fork: comm=exe pid=30 child_comm=exe child_pid=32'),
        event('exe', 40, 'sched_process_fork: comm=exe pid=40 child_comm=exe child_pid=42'),
        event('runc:[2:INIT]', 42, 'sys_close(fd: 3)'),
        event('runc:[2:INIT]', 32, 'sys_close(fd: 3)'),
        event('hello', 42, 'sched_process_exec: filename=/nabla/nabla-run pid=42 old_pid=42'),
        event('hello', 32, 'sched_process_exec: filename=/nabla/nabla-run pid=32 old_pid=32'),
      ],
      id,
    );
    expect(execs).toEqual([
      { pid: 42, filename: '/nabla/nabla-run', inContainer: false },
      { pid: 32, filename: '/nabla/nabla-run', inContainer: true },
    ]);
  });
});
