//! Processes: each owns an address space, threads, a descriptor table and credentials.
//! Spawning loads a static ELF (read through the filesystem's hook); exit frees everything
//! the process held, reparents its children to init (pid 1) and leaves a zombie for the
//! parent to reap. User faults end only the faulting process, with the signal in its wait
//! status.
//!
//! The layers above reach in through [`ProcessHooks`] handed over at boot: how to read a
//! program, what the kernel's children get as standard descriptors, and who must hear of a
//! thread's or process's end.

mod fd;
mod file;
mod loader;
mod space;

pub use fd::{FdTable, FileRef};
pub use file::{FileObject, OpenFile, StreamFile};
pub use space::{AddressSpace, FaultError, Perms};

use crate::sched::{self, Policy, Priority, Tid, UserThreadStart, WaitQueue, WakeReason};
use crate::sync::IrqSafeMutex;
use abi::Errno;
use abi::syscall::{signal, wait_status};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use kcore::vfs::Cred;
use log::{error, info};

/// A process id. 0 is the kernel.
pub use crate::sched::Pid;

/// What the process layer needs of the layers above it, handed over once at boot.
pub struct ProcessHooks {
    /// Reads the program file at a path, if `cred` may execute it (the filesystem).
    pub read_program: fn(&str, Cred) -> Result<Vec<u8>, Errno>,
    /// The console, as the standard descriptors of the kernel's own children (init).
    pub console_file: fn() -> FileRef,
    /// A thread ended (its IPC state goes with it).
    pub thread_exit: fn(Tid),
    /// A process's last thread ended (its IPC state and pool go with it).
    pub process_exit: fn(Pid),
}

static HOOKS: spin::Once<ProcessHooks> = spin::Once::new();

/// Installs the hooks (once; later calls are ignored). Until then no program can be read.
pub fn set_hooks(hooks: ProcessHooks) {
    HOOKS.call_once(|| hooks);
}

fn read_program(path: &str, cred: Cred) -> Result<Vec<u8>, Errno> {
    let hooks = HOOKS.get().ok_or(Errno::ENOENT)?;
    (hooks.read_program)(path, cred)
}

/// Most processes alive (zombies included), as LiteOS-A's default.
pub const MAX_PROCESSES: usize = 64;
/// Pid of init.
pub const INIT_PID: Pid = 1;

/// How a process is started.
#[derive(Clone, Debug)]
pub struct SpawnSpec {
    /// Executable path.
    pub path: String,
    /// Arguments (argv[0] included).
    pub argv: Vec<String>,
    /// Environment (`KEY=value`).
    pub envp: Vec<String>,
    /// Credentials (None: the parent's).
    pub ids: Option<(u32, u32)>,
    /// Main thread priority.
    pub priority: Priority,
    /// Main thread policy.
    pub policy: Policy,
}

/// Life state of a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcState {
    /// Has threads.
    Running,
    /// Being torn down; will become a zombie with this status.
    Exiting(u32),
    /// Gone; its parent has not reaped it yet.
    Zombie(u32),
}

struct Process {
    pid: Pid,
    ppid: Pid,
    name: String,
    uid: u32,
    gid: u32,
    state: ProcState,
    space: Option<Arc<AddressSpace>>,
    threads: Vec<Tid>,
    fds: FdTable,
    /// Where this process sleeps in `wait`.
    child_exit: Arc<WaitQueue>,
}

struct ProcTable {
    procs: BTreeMap<Pid, Process>,
    next_pid: Pid,
}

static PROCS: IrqSafeMutex<ProcTable> = IrqSafeMutex::new(ProcTable {
    procs: BTreeMap::new(),
    next_pid: INIT_PID,
});
/// The kernel (pid 0) waits for its only child, init, here.
static KERNEL_CHILD_EXIT: WaitQueue = WaitQueue::new();

impl ProcTable {
    fn alloc_pid(&mut self) -> Result<Pid, Errno> {
        if self.procs.len() >= MAX_PROCESSES {
            return Err(Errno::EAGAIN);
        }
        loop {
            let pid = self.next_pid;
            self.next_pid = if self.next_pid >= 32767 {
                2
            } else {
                self.next_pid + 1
            };
            if !self.procs.contains_key(&pid) {
                return Ok(pid);
            }
        }
    }
}

/// The parent of `pid` (0 if it has none or is unknown).
pub fn parent(pid: Pid) -> Pid {
    PROCS.lock().procs.get(&pid).map_or(0, |p| p.ppid)
}

/// Duplicates descriptor `fd` of process `from` into process `to` (LiteIPC OBJ_FD).
pub fn dup_fd_into(from: Pid, fd: usize, to: Pid) -> Result<usize, Errno> {
    let mut table = PROCS.lock();
    let file = table.procs.get(&from).ok_or(Errno::ESRCH)?.fds.get(fd)?;
    table
        .procs
        .get_mut(&to)
        .ok_or(Errno::ESRCH)?
        .fds
        .insert(file, false)
}

/// Whether process `pid` has descriptor `fd` open.
pub fn fd_exists(pid: Pid, fd: usize) -> Result<(), Errno> {
    PROCS
        .lock()
        .procs
        .get(&pid)
        .ok_or(Errno::ESRCH)?
        .fds
        .get(fd)
        .map(|_| ())
}

/// Closes descriptor `fd` of process `pid` (undoing a LiteIPC OBJ_FD transfer).
pub fn close_fd_of(pid: Pid, fd: usize) {
    let file = PROCS
        .lock()
        .procs
        .get_mut(&pid)
        .and_then(|p| p.fds.close(fd).ok());
    drop(file); // outside the table lock: closing may wake sockets
}

/// Credentials of a process (the kernel is root).
pub fn cred(pid: Pid) -> Cred {
    PROCS
        .lock()
        .procs
        .get(&pid)
        .map_or(Cred { uid: 0, gid: 0 }, |p| Cred {
            uid: p.uid,
            gid: p.gid,
        })
}

/// Credentials of the calling thread's process.
pub fn current_cred() -> Cred {
    cred(sched::current_pid())
}

/// Runs `f` on the calling process's descriptor table.
pub fn with_fds<R>(f: impl FnOnce(&mut FdTable) -> R) -> Result<R, Errno> {
    let pid = sched::current_pid();
    let mut table = PROCS.lock();
    let process = table.procs.get_mut(&pid).ok_or(Errno::ESRCH)?;
    Ok(f(&mut process.fds))
}

fn program_name(path: &str) -> String {
    String::from(path.rsplit('/').next().unwrap_or(path))
}

/// Starts a new process as a child of `parent`.
pub fn spawn(parent: Pid, spec: &SpawnSpec) -> Result<Pid, Errno> {
    let parent_cred = cred(parent);
    let (uid, gid) = match spec.ids {
        Some(ids) if parent_cred.uid == 0 => ids,
        Some(ids) if ids == (parent_cred.uid, parent_cred.gid) => ids,
        Some(_) => return Err(Errno::EPERM),
        None => (parent_cred.uid, parent_cred.gid),
    };
    let image = read_program(&spec.path, parent_cred)?;
    let loaded = loader::load(&image, &spec.argv, &spec.envp, uid, gid)?;
    drop(image);
    let space = Arc::new(loaded.space);
    let inherited = PROCS.lock().procs.get(&parent).map(|p| p.fds.inherit());
    let fds = inherited.unwrap_or_else(|| match HOOKS.get() {
        Some(hooks) => FdTable::with_stdio((hooks.console_file)()),
        None => FdTable::default(),
    });
    let name = program_name(&spec.path);
    let pid = {
        let mut table = PROCS.lock();
        let pid = table.alloc_pid()?;
        table.procs.insert(
            pid,
            Process {
                pid,
                ppid: parent,
                name: name.clone(),
                uid,
                gid,
                state: ProcState::Running,
                space: Some(space.clone()),
                threads: Vec::new(),
                fds,
                child_exit: Arc::new(WaitQueue::new()),
            },
        );
        pid
    };
    let start = UserThreadStart {
        pid,
        space: space_handle(space),
        entry: loaded.entry,
        sp: loaded.sp,
        arg: 0,
        tls: 0,
        priority: spec.priority,
        policy: spec.policy,
    };
    match sched::spawn_user_thread(&name, start) {
        Ok(tid) => {
            if let Some(process) = PROCS.lock().procs.get_mut(&pid) {
                process.threads.push(tid);
            }
            info!(target: "proc", "spawned {name} as pid {pid} (uid {uid})");
            Ok(pid)
        }
        Err(e) => {
            PROCS.lock().procs.remove(&pid);
            Err(e)
        }
    }
}

/// Adds a thread to the calling process.
pub fn create_thread(
    entry: u64,
    arg: u64,
    stack_top: u64,
    priority: Priority,
) -> Result<Tid, Errno> {
    let pid = sched::current_pid();
    let space = sched::current_space().ok_or(Errno::EPERM)?;
    let name = {
        let table = PROCS.lock();
        let process = table.procs.get(&pid).ok_or(Errno::ESRCH)?;
        if process.state != ProcState::Running {
            return Err(Errno::ESRCH);
        }
        process.name.clone()
    };
    let start = UserThreadStart {
        pid,
        space,
        entry,
        sp: stack_top & !15,
        arg,
        tls: 0,
        priority,
        policy: Policy::RoundRobin,
    };
    let tid = sched::spawn_user_thread(&name, start)?;
    match PROCS.lock().procs.get_mut(&pid) {
        Some(process) if process.state == ProcState::Running => process.threads.push(tid),
        _ => sched::interrupt(tid),
    }
    Ok(tid)
}

/// Ends the calling thread; the process ends with it if it was the last one.
pub fn exit_thread(code: i32) -> ! {
    let tid = sched::current();
    let pid = sched::current_pid();
    if let Some(hooks) = HOOKS.get() {
        (hooks.thread_exit)(tid);
    }
    let last = {
        let mut table = PROCS.lock();
        match table.procs.get_mut(&pid) {
            Some(process) => {
                process.threads.retain(|t| *t != tid);
                process.threads.is_empty()
            }
            None => false,
        }
    };
    if last {
        let status = match PROCS.lock().procs.get(&pid).map(|p| p.state) {
            Some(ProcState::Exiting(status)) => status,
            _ => wait_status::exited(code as u8),
        };
        finish_process(pid, status);
        sched::discard_exit_code(tid);
    }
    sched::exit_current(code)
}

/// Ends the calling process with wait status `status`.
pub fn exit_process(status: u32) -> ! {
    begin_exit(sched::current_pid(), status);
    exit_thread(0)
}

/// Marks `pid` as exiting (first status wins) and tells all its threads to leave.
fn begin_exit(pid: Pid, status: u32) {
    let threads = {
        let mut table = PROCS.lock();
        let Some(process) = table.procs.get_mut(&pid) else {
            return;
        };
        if process.state == ProcState::Running {
            process.state = ProcState::Exiting(status);
        }
        process.threads.clone()
    };
    for tid in threads {
        if tid != sched::current() {
            sched::interrupt(tid);
        }
    }
}

/// The last thread left: release resources, become a zombie, tell the parent.
fn finish_process(pid: Pid, status: u32) {
    if let Some(hooks) = HOOKS.get() {
        (hooks.process_exit)(pid);
    }
    let mut table = PROCS.lock();
    let Some(process) = table.procs.get_mut(&pid) else {
        return;
    };
    process.state = ProcState::Zombie(status);
    process.fds.clear();
    process.space = None; // the dying thread holds the last reference until it is reaped
    let (ppid, name) = (process.ppid, process.name.clone());
    let mut init_has_zombies = false;
    for child in table.procs.values_mut().filter(|p| p.ppid == pid) {
        child.ppid = INIT_PID;
        init_has_zombies |= matches!(child.state, ProcState::Zombie(_));
    }
    let parent_queue = table.procs.get(&ppid).map(|p| p.child_exit.clone());
    let init_queue = table.procs.get(&INIT_PID).map(|p| p.child_exit.clone());
    drop(table);
    match wait_status::term_signal(status) {
        Some(sig) => info!(target: "proc", "pid {pid} ({name}) killed by signal {sig}"),
        None => {
            info!(target: "proc", "pid {pid} ({name}) exited with status {}", wait_status::exit_code(status).unwrap_or(0))
        }
    }
    match parent_queue {
        Some(queue) => queue.wake_all(),
        None => KERNEL_CHILD_EXIT.wake_all(),
    };
    if init_has_zombies && let Some(queue) = init_queue {
        queue.wake_all();
    }
}

/// Reaps a child of the calling process: `pid` > 0 that child, -1 any. Returns (pid,
/// status), or `Ok(None)` with `nohang` when none has exited yet.
pub fn wait(pid: i64, nohang: bool) -> Result<Option<(Pid, u32)>, Errno> {
    let me = sched::current_pid();
    loop {
        let queue = {
            let mut table = PROCS.lock();
            let mine = |p: &&Process| p.ppid == me && (pid == -1 || i64::from(p.pid) == pid);
            if !table.procs.values().any(|p| mine(&p)) {
                return Err(Errno::ECHILD);
            }
            let zombie = table
                .procs
                .values()
                .filter(mine)
                .find_map(|p| match p.state {
                    ProcState::Zombie(status) => Some((p.pid, status)),
                    _ => None,
                });
            if let Some((child, status)) = zombie {
                table.procs.remove(&child);
                return Ok(Some((child, status)));
            }
            if nohang {
                return Ok(None);
            }
            table.procs.get(&me).map(|p| p.child_exit.clone())
        };
        let reason = match &queue {
            Some(queue) => queue.wait(None),
            None => KERNEL_CHILD_EXIT.wait(None),
        };
        if reason == WakeReason::Interrupted {
            return Err(Errno::EINTR);
        }
    }
}

/// Sends `sig` to `pid` on behalf of the calling process.
pub fn kill(pid: Pid, sig: u32) -> Result<(), Errno> {
    if !matches!(sig, signal::SIGKILL | signal::SIGTERM | 0) {
        return Err(Errno::EINVAL);
    }
    let sender = current_cred();
    {
        let table = PROCS.lock();
        let target = table.procs.get(&pid).ok_or(Errno::ESRCH)?;
        if sender.uid != 0 && sender.uid != target.uid {
            return Err(Errno::EPERM);
        }
        if pid == INIT_PID || matches!(target.state, ProcState::Zombie(_)) {
            return if sig == 0 { Ok(()) } else { Err(Errno::EPERM) };
        }
    }
    if sig != 0 {
        terminate(pid, sig);
    }
    Ok(())
}

/// Ends process `pid` with signal `sig` (from the kernel: faults, kill).
pub fn terminate(pid: Pid, sig: u32) {
    begin_exit(pid, wait_status::signaled(sig));
    if sched::current_pid() == pid {
        exit_thread(0);
    }
}

/// A user thread faulted in a way it cannot survive: log and end its process.
pub fn fatal_user_fault(what: &str, addr: u64, esr: u64, sig: u32) -> ! {
    let pid = sched::current_pid();
    let name = PROCS
        .lock()
        .procs
        .get(&pid)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    error!(target: "proc", "pid {pid} ({name}): {what} at {addr:#x}, {}; killed with signal {sig}", kcore::esr::Esr(esr));
    begin_exit(pid, wait_status::signaled(sig));
    exit_thread(0)
}

/// What `ps` shows about a process besides its threads.
#[derive(Clone, Copy, Debug)]
pub struct ProcInfo {
    /// Process id.
    pub pid: Pid,
    /// Parent.
    pub ppid: Pid,
    /// Owner.
    pub uid: u32,
}

/// Every process.
pub fn list() -> Vec<ProcInfo> {
    PROCS
        .lock()
        .procs
        .values()
        .map(|p| ProcInfo {
            pid: p.pid,
            ppid: p.ppid,
            uid: p.uid,
        })
        .collect()
}

/// Waits for the kernel's child `pid` (used by the boot thread for init).
#[cfg(not(test))]
pub fn kernel_wait(pid: Pid) -> Result<u32, Errno> {
    wait(i64::from(pid), false)?
        .map(|(_, status)| status)
        .ok_or(Errno::ECHILD)
}

/// Replaces the calling process's program (all other threads end).
pub fn exec(spec: &SpawnSpec, frame: &mut crate::arch::vectors::TrapFrame) -> Result<(), Errno> {
    let pid = sched::current_pid();
    let cred = current_cred();
    let image = read_program(&spec.path, cred)?;
    let loaded = loader::load(&image, &spec.argv, &spec.envp, cred.uid, cred.gid)?;
    drop(image);
    let space = Arc::new(loaded.space);
    let others = {
        let mut table = PROCS.lock();
        let process = table.procs.get_mut(&pid).ok_or(Errno::ESRCH)?;
        process.name = program_name(&spec.path);
        process.space = Some(space.clone());
        let me = sched::current();
        let others: Vec<Tid> = process
            .threads
            .iter()
            .copied()
            .filter(|t| *t != me)
            .collect();
        process.threads.retain(|t| *t == me);
        others
    };
    for tid in others {
        sched::interrupt(tid);
    }
    sched::replace_current_space(space_handle(space));
    *frame = crate::arch::context::user_entry_frame(loaded.entry, loaded.sp, 0);
    Ok(())
}

/// An address space as the scheduler holds it.
fn space_handle(space: Arc<AddressSpace>) -> sched::SpaceHandle {
    space
}

/// The running thread's address space, if it is a user thread.
pub fn current_space() -> Option<Arc<AddressSpace>> {
    let handle: Arc<dyn core::any::Any + Send + Sync> = sched::current_space()?;
    handle.downcast::<AddressSpace>().ok()
}
