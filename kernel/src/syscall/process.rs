//! Process system calls: exit, spawn, execve, wait, kill, ids.

use crate::arch::vectors::TrapFrame;
use crate::mm::uaccess;
use crate::proc::{self, SpawnSpec};
use crate::sched::{self, Policy, Priority};
use abi::syscall::{
    MAX_ARG_BYTES, MAX_ARGS, MAX_PATH, SPAWN_SET_IDS, SPAWN_SET_PRIORITY, SpawnRequest, WNOHANG,
    wait_status,
};
use abi::{Errno, Sysno};

pub fn handle(sysno: Sysno, args: [usize; 6]) -> Result<usize, Errno> {
    match sysno {
        Sysno::Exit => proc::exit_process(wait_status::exited(args[0] as u8)),
        Sysno::ThreadExit => proc::exit_thread(args[0] as i32),
        Sysno::Spawn => {
            let spec = read_spawn_request(args[0])?;
            proc::spawn(sched::current_pid(), &spec).map(|pid| pid as usize)
        }
        Sysno::Wait => wait(args[0] as isize, args[1], args[2]),
        Sysno::Kill => {
            let pid = u32::try_from(args[0]).map_err(|_| Errno::ESRCH)?;
            let sig = u32::try_from(args[1]).map_err(|_| Errno::EINVAL)?;
            proc::kill(pid, sig).map(|()| 0)
        }
        Sysno::GetPid => Ok(sched::current_pid() as usize),
        Sysno::GetPpid => Ok(proc::parent(sched::current_pid()) as usize),
        Sysno::GetUid => Ok(proc::current_cred().uid as usize),
        Sysno::GetGid => Ok(proc::current_cred().gid as usize),
        _ => Err(Errno::ENOSYS),
    }
}

pub fn execve(request: usize, frame: &mut TrapFrame) -> Result<usize, Errno> {
    let spec = read_spawn_request(request)?;
    proc::exec(&spec, frame).map(|()| 0)
}

fn wait(pid: isize, status_ptr: usize, options: usize) -> Result<usize, Errno> {
    if options & !WNOHANG != 0 || pid == 0 || pid < -1 {
        return Err(Errno::EINVAL);
    }
    match proc::wait(pid as i64, options & WNOHANG != 0)? {
        Some((child, status)) => {
            if status_ptr != 0 {
                uaccess::write_struct(status_ptr, &status)?;
            }
            Ok(child as usize)
        }
        None => Ok(0),
    }
}

fn read_spawn_request(addr: usize) -> Result<SpawnSpec, Errno> {
    let request: SpawnRequest = uaccess::read_struct(addr)?;
    let path = uaccess::read_string(request.path, MAX_PATH)?;
    let argv = uaccess::read_string_array(request.argv, request.argc, MAX_ARGS, MAX_ARG_BYTES)?;
    let envp = uaccess::read_string_array(request.envp, request.envc, MAX_ARGS, MAX_ARG_BYTES)?;
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
