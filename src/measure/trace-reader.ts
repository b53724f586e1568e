/**
 * Reads a tracefs text trace (trace_pipe) of one measured run and keeps what the
 * container's own tasks did inside the window: the distinct kernel functions they entered
 * and the host system calls they made.
 *
 * The window opens when untrusted code starts: at the exec of the container's first
 * process (a plain image: its entrypoint), or, for a nabla image, when the tender's own
 * seccomp(SECCOMP_SET_MODE_FILTER) returns, since before that only the tender's code runs
 * and after it only what the policy allows. Tasks the window's tasks fork join it.
 *
 * Kernel functions ("event-stacks", a lower bound): the names on the kernel stack recorded
 * with each event, without the tracing machinery's own frames and without the frames an
 * interrupt interrupted (they belong to whatever ran before it, not to what the interrupt
 * did). With the function tracer ("function-tracer"), every function entered.
 */

/** When the window opens: at the root's exec, or when its seccomp filter is in. */
export type WindowStart = 'exec' | 'filter';

export interface TraceSummary {
  /** Distinct kernel functions entered by the window's tasks. */
  functions: Set<string>;
  /**
   * Those of them seen outside interrupts and softirqs: in the tasks' own system calls,
   * faults and scheduling, not in the interrupt and softirq work that ran while they were
   * on the CPU (timer ticks, packets of other sockets).
   */
  taskFunctions: Set<string>;
  /** Host system calls the window's tasks made, by name, with counts. */
  syscalls: Map<string, number>;
  /** Events recorded for the window's tasks. */
  events: number;
  /** The window's tasks (host pids/tids). */
  tasks: Set<number>;
  /** Whether the window opened at all (the root exec'd, and its filter went in). */
  opened: boolean;
  /** Events of the root seen before the window opened: what the trace had, when it did not open. */
  rootEventsBefore: number;
  /** Whether the root's exec was seen. */
  rootExeced: boolean;
}

const HEADER = /^\s*(.+?)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(\d+)\]\s+(?:\S+\s+)?\d+\.\d+: (.*)$/;
const SYSCALL_ENTER = /^sys_(\w+)\((.*)\)$/;
const SYSCALL_EXIT = /^sys_(\w+) -> (0x[0-9a-f]+|-?\d+)$/;
/** An exec: the file it ran and the pid that ran it. */
const EXEC = /^sched_process_exec: filename=(.*) pid=(\d+) old_pid=/;
/** A fork: the parent's name as the event recorded it, its pid, and the child's pid. */
const FORK = /^sched_process_fork: comm=(.+?) pid=(\d+) child_comm=.* child_pid=(\d+)/;
const CGROUP_ATTACH = /^cgroup_attach_task: .*\bdst_path=(\S+) pid=(\d+)/;
const FUNCTION = /^([\w.$]+) <-\S+$/;
/**
 * Frames of the tracing machinery itself, not of the work traced: the event's own, the pid
 * filter measure sets (set_event_pid hooks the scheduler), and the out-of-line callers the
 * kernel enters only while a tracepoint is on (mmap_lock's, the MSR writes', the sockets').
 */
const TRACING_FRAME =
  /^(?:trace_event_|__traceiter_|perf_trace_|__bpf_trace_|trace_buffer_|ring_buffer_|__ftrace_|ftrace_|__trace_|trace_raw_output_|event_filter_pid_|trace_pid_list_|trace_ignore_this_task$|__mmap_lock_do_trace_|do_trace_(?:read|write)_msr$|do_trace_rdpmc$|call_trace_sock_)/;
/** Where an interrupt (not an exception the task caused) entered the kernel. */
const INTERRUPT_ENTRY = /^(?:asm_sysvec_|asm_common_interrupt|asm_spurious_interrupt|asm_exc_nmi)/;
/** Where pending softirqs run (network receive, timers), here on the way out of a task's own call. */
const SOFTIRQ_ENTRY = /^(?:handle_softirqs|__do_softirq)$/;
const SECCOMP_SET_MODE_FILTER = 1;

/** runc's name for a container's first process until it execs the entrypoint (nsexec.c). */
const RUNC_INIT = 'runc:[2:INIT]';

/**
 * Finds the container's first process in a trace when it exited before its pid could be
 * asked for: the tasks runc named RUNC_INIT that then exec'd, with what they exec'd. The
 * name is read where the kernel recorded it with the event (a fork's `comm=`): the one in
 * a line's header is looked up when the line is read, and a reader that lags (a fast
 * machine's short run) finds the name the task took at its exec instead. Given
 * the container's ID, each is also marked as the container's own or not: runc moves its
 * init into the container's cgroup (cgroup_attach_task names the path, which holds the ID),
 * and everything that task forks is the container's too. That tells our container from
 * others started in the same moment from the same image.
 */
export class ContainerInitFinder {
  private readonly runcInits = new Set<number>();
  /** Tasks runc put into the container's cgroup, and what they forked. */
  private readonly containerTasks = new Set<number>();
  readonly execs: { pid: number; filename: string; inContainer: boolean }[] = [];

  constructor(private readonly containerId?: string) {}

  line(text: string): void {
    const header = HEADER.exec(text);
    if (!header) return;
    const pid = Number(header[2]);
    const payload = header[4]!;
    if (header[1] === RUNC_INIT) this.runcInits.add(pid);
    const fork = FORK.exec(payload);
    if (fork?.[1] === RUNC_INIT) this.runcInits.add(Number(fork[2]));
    const attach = CGROUP_ATTACH.exec(payload);
    if (attach && this.containerId && attach[1]!.includes(this.containerId)) this.containerTasks.add(Number(attach[2]));
    if (fork && this.containerTasks.has(pid)) this.containerTasks.add(Number(fork[3]));
    const exec = EXEC.exec(payload);
    if (exec && this.runcInits.has(pid) && Number(exec[2]) === pid && !this.execs.some((e) => e.pid === pid)) {
      this.execs.push({ pid, filename: exec[1]!, inContainer: this.containerTasks.has(pid) });
    }
  }
}

export class TraceReader {
  private readonly summary: TraceSummary = { functions: new Set(), taskFunctions: new Set(), syscalls: new Map(), events: 0, tasks: new Set(), opened: false, rootEventsBefore: 0, rootExeced: false };
  private filterCalled = false;
  /** The frames of the stack being read, innermost first, if it is one of the window's tasks'. */
  private stack: string[] | undefined;

  constructor(
    private readonly root: number,
    private readonly opensAt: WindowStart,
  ) {}

  line(text: string): void {
    if (text.startsWith(' => ')) return this.frame(text.slice(4).trim());
    const header = HEADER.exec(text);
    if (!header) return;
    this.endStack();
    const pid = Number(header[2]);
    const payload = header[4]!;
    if (payload === '<stack trace>') {
      if (this.summary.tasks.has(pid)) this.stack = [];
      return;
    }
    if (pid === this.root && !this.summary.opened) this.beforeWindow(payload);
    if (!this.summary.tasks.has(pid)) return;
    this.summary.events++;
    const fork = FORK.exec(payload);
    if (fork) this.summary.tasks.add(Number(fork[3]));
    const call = SYSCALL_ENTER.exec(payload);
    if (call) this.summary.syscalls.set(call[1]!, (this.summary.syscalls.get(call[1]!) ?? 0) + 1);
    const entered = FUNCTION.exec(payload);
    if (entered) {
      this.summary.functions.add(entered[1]!);
      this.summary.taskFunctions.add(entered[1]!); // the function tracer does not say which context
    }
  }

  private beforeWindow(payload: string): void {
    this.summary.rootEventsBefore++;
    const exec = EXEC.exec(payload);
    if (exec && Number(exec[2]) === this.root) {
      this.summary.rootExeced = true;
      if (this.opensAt === 'exec') this.open();
      return;
    }
    if (!this.summary.rootExeced || this.opensAt !== 'filter') return;
    const enter = SYSCALL_ENTER.exec(payload);
    if (enter?.[1] === 'seccomp') this.filterCalled = Number.parseInt(/^op: (\w+)/.exec(enter[2]!)?.[1] ?? '-1', 16) === SECCOMP_SET_MODE_FILTER;
    const exit = SYSCALL_EXIT.exec(payload);
    if (exit?.[1] === 'seccomp' && this.filterCalled && Number(exit[2]) === 0) this.open();
  }

  private open(): void {
    this.summary.opened = true;
    this.summary.tasks.add(this.root);
  }

  private frame(name: string): void {
    const bare = name.replace(/[+ ].*$/, '');
    if (this.stack && /^[\w.$]+$/.test(bare) && !TRACING_FRAME.test(bare)) this.stack.push(bare);
  }

  private endStack(): void {
    const frames = this.stack;
    this.stack = undefined;
    if (!frames) return;
    const entry = frames.findIndex((frame) => INTERRUPT_ENTRY.test(frame));
    // Frames older than an interrupt's entry are what it interrupted: not counted.
    for (const frame of entry < 0 ? frames : frames.slice(0, entry + 1)) this.summary.functions.add(frame);
    if (entry >= 0) return;
    // A softirq run at the end of the task's call (a frame sent, then every queued packet
    // received, other sockets' too) is not the task's own work either.
    for (const frame of frames.slice(frames.findIndex((f) => SOFTIRQ_ENTRY.test(f)) + 1)) this.summary.taskFunctions.add(frame);
  }

  result(): TraceSummary {
    this.endStack();
    return this.summary;
  }
}
