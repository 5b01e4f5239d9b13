//! Process system calls: exit, spawn, execve, wait, kill, and the task list for `ps`.

use crate::arch::vectors::TrapFrame;
use crate::mm::uaccess::{self, UserPtr};
use crate::proc::{self, SpawnSpec};
use crate::sched::{self, Policy, Priority};
use abi::Errno;
use abi::syscall::{
    MAX_ARG_BYTES, MAX_ARGS, MAX_PATH, SPAWN_SET_IDS, SPAWN_SET_PRIORITY, SpawnRequest, TaskInfo,
    task_state, wait_status,
};
use kcore::syscall::WaitFor;

pub(super) fn exit(status: u8) -> ! {
    proc::exit_process(wait_status::exited(status))
}

pub(super) fn spawn(request: UserPtr<SpawnRequest>) -> Result<usize, Errno> {
    let spec = read_spawn_request(request)?;
    proc::spawn(sched::current_pid(), &spec).map(|pid| pid as usize)
}

pub(super) fn execve(
    request: UserPtr<SpawnRequest>,
    frame: &mut TrapFrame,
) -> Result<usize, Errno> {
    let spec = read_spawn_request(request)?;
    proc::exec(&spec, frame).map(|()| 0)
}

pub(super) fn wait(
    target: WaitFor,
    status: Option<UserPtr<u32>>,
    nohang: bool,
) -> Result<usize, Errno> {
    let pid = match target {
        WaitFor::Any => -1,
        WaitFor::Child(pid) => i64::from(pid),
    };
    match proc::wait(pid, nohang)? {
        Some((child, code)) => {
            if let Some(status) = status {
                uaccess::write(status, &code)?;
            }
            Ok(child as usize)
        }
        None => Ok(0),
    }
}

pub(super) fn kill(pid: u32, signal: u32) -> Result<usize, Errno> {
    proc::kill(pid, signal).map(|()| 0)
}

fn read_spawn_request(at: UserPtr<SpawnRequest>) -> Result<SpawnSpec, Errno> {
    let request = uaccess::read(at)?;
    let path = uaccess::read_string(uaccess::user_str(request.path)?, MAX_PATH)?;
    let strings = |addr: usize, count| {
        uaccess::read_string_array(UserPtr::new(addr as u64), count, MAX_ARGS, MAX_ARG_BYTES)
    };
    let argv = strings(request.argv, request.argc)?;
    let envp = strings(request.envp, request.envc)?;
    let ids = (request.flags & SPAWN_SET_IDS != 0).then_some((request.uid, request.gid));
    let priority = if request.flags & SPAWN_SET_PRIORITY != 0 {
        Priority::for_user(request.priority).map_err(|_| Errno::EINVAL)?
    } else {
        sched::get_param(sched::current())?.0
    };
    if request.flags & !(SPAWN_SET_IDS | SPAWN_SET_PRIORITY) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(SpawnSpec {
        path,
        argv,
        envp,
        ids,
        priority,
        policy: Policy::RoundRobin,
    })
}

/// Fills `buf` with up to `max` [`TaskInfo`] records, one per thread; returns how many.
pub(super) fn task_list(buf: UserPtr<TaskInfo>, max: usize) -> Result<usize, Errno> {
    let processes = proc::list();
    let mut written = 0;
    for thread in sched::threads().into_iter().take(max) {
        let process = processes.iter().find(|p| p.pid == thread.pid);
        let mut name = [0u8; 16];
        let bytes = thread.name.as_bytes();
        name[..bytes.len().min(16)].copy_from_slice(&bytes[..bytes.len().min(16)]);
        let state = match thread.state {
            sched::ThreadState::Running => task_state::RUNNING,
            sched::ThreadState::Ready => task_state::READY,
            sched::ThreadState::Blocked => task_state::BLOCKED,
            sched::ThreadState::Dead => task_state::ZOMBIE,
        };
        let info = TaskInfo {
            pid: thread.pid,
            ppid: process.map_or(0, |p| p.ppid),
            tid: thread.tid.0,
            uid: process.map_or(0, |p| p.uid),
            priority: thread.priority.get(),
            policy: thread.policy.to_abi() as u8,
            state,
            reserved: 0,
            name,
        };
        uaccess::write(buf.offset(written).ok_or(Errno::EFAULT)?, &info)?;
        written += 1;
    }
    Ok(written)
}
