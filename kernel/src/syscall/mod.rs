//! System calls: the trap frame is decoded once into a typed [`Request`] (kcore's checked
//! decoder: unknown numbers `ENOSYS`, values out of their type's range `EINVAL`), then one
//! `match` hands it to its handler, and the result (or `-errno`) goes to x0. Handlers are
//! thin: each turns typed arguments into a call of the layer that does the work. Nothing a
//! user passes can panic the kernel.

mod file;
mod net;
mod process;
mod system;
mod thread;

use crate::arch::vectors::TrapFrame;
use abi::Errno;
use kcore::syscall::{Handler, Request, decode_with};

/// Handles the system call in `frame` and stores its result in x0.
pub fn dispatch(frame: &mut TrapFrame) {
    let regs = [
        frame.x[0], frame.x[1], frame.x[2], frame.x[3], frame.x[4], frame.x[5],
    ];
    let number = frame.x[8];
    let result = decode_with(number, regs, &mut Caller { frame });
    frame.x[0] = match result {
        Ok(value) => value as u64,
        Err(errno) => errno.as_return() as u64,
    };
}

/// The calling thread's trap frame, for `execve` to replace.
struct Caller<'a> {
    frame: &'a mut TrapFrame,
}

impl Handler for Caller<'_> {
    type Output = usize;

    /// Runs one decoded request.
    #[inline(always)]
    fn handle(&mut self, request: Request) -> Result<usize, Errno> {
        run(request, self.frame)
    }
}

/// Runs one decoded request; `frame` is the caller's, for `execve` to replace.
#[inline(always)]
fn run(request: Request, frame: &mut TrapFrame) -> Result<usize, Errno> {
    match request {
        Request::Exit { status } => process::exit(status),
        Request::ThreadExit { code } => crate::proc::exit_thread(code),
        Request::Spawn { request } => process::spawn(request),
        Request::Execve { request } => process::execve(request, frame),
        Request::Wait {
            target,
            status,
            nohang,
        } => process::wait(target, status, nohang),
        Request::Kill { pid, signal } => process::kill(pid, signal),
        Request::GetPid => Ok(crate::sched::current_pid() as usize),
        Request::GetPpid => Ok(crate::proc::parent(crate::sched::current_pid()) as usize),
        Request::GetUid => Ok(crate::proc::current_cred().uid as usize),
        Request::GetGid => Ok(crate::proc::current_cred().gid as usize),
        Request::TaskList { buf, max } => process::task_list(buf, max),
        Request::GetTid => Ok(crate::sched::current().0 as usize),
        Request::ThreadCreate {
            entry,
            arg,
            stack_top,
            priority,
        } => thread::create(entry, arg, stack_top, priority),
        Request::ThreadJoin { tid } => thread::join(tid),
        Request::Futex { addr, op } => crate::ipc::futex::futex(addr, op),
        Request::SchedYield => thread::yield_now(),
        Request::SchedSetParam {
            tid,
            priority,
            policy,
        } => thread::set_param(tid, priority, policy),
        Request::SchedGetParam { tid } => thread::get_param(tid),
        Request::Nanosleep { ns } => thread::nanosleep(ns),
        Request::ClockGettime { clock } => Ok(thread::clock_gettime(clock)),
        Request::Mmap {
            addr,
            len,
            prot,
            flags,
            fd,
        } => thread::mmap(addr, len, prot, flags, fd),
        Request::Munmap { addr, len } => thread::munmap(addr, len),
        Request::Mprotect { addr, len, prot } => thread::mprotect(addr, len, prot),
        Request::MemInfo { info } => system::meminfo(info),
        Request::Open { path, flags, mode } => file::open(path, flags, mode),
        Request::Close { fd } => file::close(fd),
        Request::Read { fd, buf } => file::read(fd, buf),
        Request::Write { fd, buf } => file::write(fd, buf),
        Request::Ioctl { fd, cmd, arg } => file::ioctl(fd, cmd, arg),
        Request::Fstat { fd, stat } => file::fstat(fd, stat),
        Request::Getdents { fd, buf } => file::getdents(fd, buf),
        Request::Lseek { fd, offset, whence } => file::lseek(fd, offset, whence),
        Request::Dup { fd } => file::dup(fd),
        Request::Mkdir { path, mode } => system::mkdir(path, mode),
        Request::Rmdir { path } => system::rmdir(path),
        Request::Unlink { path } => system::unlink(path),
        Request::Chmod { path, mode } => system::chmod(path, mode),
        Request::Chown { path, uid, gid } => system::chown(path, uid, gid),
        Request::Stat { path, stat } => system::stat(path, stat),
        Request::Mount { request } => system::mount(request),
        Request::Reboot { mode } => system::reboot(mode),
        Request::SetHostname { name } => system::set_hostname(name),
        Request::GetHostname { buf } => system::get_hostname(buf),
        Request::Dmesg { buf } => system::dmesg(buf),
        Request::Socket {
            kind,
            nonblocking,
            cloexec,
        } => net::socket(kind, nonblocking, cloexec),
        Request::Bind { fd, path } => net::bind(fd, path),
        Request::Listen { fd, backlog } => net::listen(fd, backlog),
        Request::Accept {
            fd,
            nonblocking,
            cloexec,
        } => net::accept(fd, nonblocking, cloexec),
        Request::Connect { fd, path } => net::connect(fd, path),
        Request::SendTo {
            fd,
            data,
            flags,
            to,
        } => net::send_to(fd, data, flags, to),
        Request::RecvFrom {
            fd,
            buf,
            flags,
            from,
        } => net::recv_from(fd, buf, flags, from),
        Request::GetPeerCred { fd, cred } => net::peer_cred(fd, cred),
        Request::Poll {
            fds,
            nfds,
            timeout_ms,
        } => net::poll(fds, nfds, timeout_ms),
        Request::SetNonblock { fd, on } => net::set_nonblock(fd, on),
    }
}
