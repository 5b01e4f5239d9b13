//! init's supervision policy, as startup_init_lite has it (openharmony-facts.md section 3),
//! as a pure state machine: what happens to a service when it is asked to start or stop and
//! when it exits. No processes, clocks or printing here: the supervisor feeds in the events
//! (with the monotonic time of each exit) and carries out the decision, so every rule is
//! unit-tested on the host.
//!
//! The rules, in the order an exit is judged:
//! 1. a service stopped on purpose, or any service while the machine goes down, is stopped;
//! 2. `importance` != 0: its exit reboots the machine;
//! 3. `critical: [1, N, S]`: its N-th exit within S seconds reboots the machine;
//! 4. `once`: it is done, not restarted;
//! 5. otherwise it is restarted, unless this is its [`CRASH_LIMIT`]-th unexpected exit within
//!    [`CRASH_WINDOW`]: then init gives up on it (an explicit start gives it a fresh budget).

use alloc::vec::Vec;
use core::time::Duration;
use initcfg::Service;

/// Window in which unexpected exits are counted (upstream `CRASH_TIME_LIMIT`).
pub const CRASH_WINDOW: Duration = Duration::from_secs(240);
/// Unexpected exits within the window that stop the restarts (upstream `CRASH_COUNT_LIMIT`).
pub const CRASH_LIMIT: usize = 4;

/// Where a service is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Never started.
    Idle,
    /// Running with a pid.
    Running,
    /// SIGTERM sent on purpose; will not be restarted.
    Stopping,
    /// Stopped on purpose.
    Stopped,
    /// A `once` service that exited.
    Done,
    /// Gave up: crashed too often, could not be started, or brought the machine down.
    Failed,
}

impl State {
    /// The state's name in the service table.
    pub fn name(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Running => "running",
            State::Stopping => "stopping",
            State::Stopped => "stopped",
            State::Done => "done",
            State::Failed => "failed",
        }
    }
}

/// Who asked for a start: the jobs skip disabled services, a request does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A `start` command in a job.
    Job,
    /// `/dev/initctl` (the shell's `start`).
    Request,
}

/// What to do with a start request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Spawn it now; then report [`Lifecycle::spawned`] or [`Lifecycle::spawn_failed`].
    Spawn,
    /// It already runs (or is being stopped).
    AlreadyRunning,
    /// The jobs do not start a `disabled` service.
    Disabled,
    /// The jobs do not start an `ondemand` service (not supported: treated as disabled).
    OnDemand,
}

/// What to do with a stop request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Send it SIGTERM; its exit will not restart it.
    Terminate,
    /// It does not run; nothing to send.
    NotRunning,
}

/// What a service's exit leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It was stopped on purpose, or the machine is going down: not restarted.
    Stopped,
    /// Reboot the machine (rules 2 and 3).
    Reboot(RebootCause),
    /// A `once` service finished.
    Done,
    /// Restart it; this was unexpected exit number `crash` of the window.
    Restart {
        /// Unexpected exits within [`CRASH_WINDOW`], this one included (1..CRASH_LIMIT).
        crash: usize,
    },
    /// Too many unexpected exits: not restarted again.
    GiveUp {
        /// Unexpected exits within [`CRASH_WINDOW`], this one included.
        crashes: usize,
    },
}

/// Why a service's exit reboots the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RebootCause {
    /// Its `importance` is not 0.
    Importance(i32),
    /// A `critical` service exited `exits` times within `window_s` seconds.
    Critical {
        /// Exits within the window, this one included.
        exits: usize,
        /// The window, in seconds.
        window_s: u32,
    },
}

/// What init remembers of one service across its runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lifecycle {
    state: State,
    /// Restarts after unexpected exits, since boot.
    restarts: u32,
    /// Times of unexpected exits within [`CRASH_WINDOW`].
    crashes: Vec<Duration>,
    /// Times of exits within the `critical` window.
    critical_exits: Vec<Duration>,
}

impl Default for Lifecycle {
    fn default() -> Lifecycle {
        Lifecycle::new()
    }
}

impl Lifecycle {
    /// A service that was never started.
    pub const fn new() -> Lifecycle {
        Lifecycle {
            state: State::Idle,
            restarts: 0,
            crashes: Vec::new(),
            critical_exits: Vec::new(),
        }
    }

    /// Its state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Restarts after unexpected exits, since boot.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// A start of `service` asked for by `origin`. An explicit start (anything that leads
    /// to [`Start::Spawn`]) gives a service that crashed too often a fresh budget.
    pub fn start(&mut self, service: &Service, origin: Origin) -> Start {
        match self.state {
            State::Running | State::Stopping => return Start::AlreadyRunning,
            _ if origin == Origin::Job && service.disabled => return Start::Disabled,
            _ if origin == Origin::Job && service.ondemand => return Start::OnDemand,
            _ => {}
        }
        self.crashes.clear();
        Start::Spawn
    }

    /// The service was spawned (a start or a restart).
    pub fn spawned(&mut self) {
        self.state = State::Running;
    }

    /// The service could not be spawned: init gives up on it.
    pub fn spawn_failed(&mut self) {
        self.state = State::Failed;
    }

    /// A stop asked for on purpose; `running` says whether it has a process.
    pub fn stop(&mut self, running: bool) -> Stop {
        if running && self.state == State::Running {
            self.state = State::Stopping;
            return Stop::Terminate;
        }
        if self.state != State::Stopping {
            self.state = State::Stopped;
        }
        Stop::NotRunning
    }

    /// The machine goes down: the running service is being stopped.
    pub fn shutting_down(&mut self) {
        self.state = State::Stopping;
    }

    /// The service's process exited at `now` (monotonic time); `shutting_down` says
    /// whether the machine is going down. Returns what to do; a [`Exit::Restart`] is
    /// followed by a spawn.
    pub fn exited(&mut self, service: &Service, now: Duration, shutting_down: bool) -> Exit {
        if self.state == State::Stopping || shutting_down {
            self.state = State::Stopped;
            return Exit::Stopped;
        }
        if service.importance != 0 {
            self.state = State::Failed;
            return Exit::Reboot(RebootCause::Importance(service.importance));
        }
        if let Some(critical) = service.critical {
            let window = Duration::from_secs(critical.window_s.into());
            let exits = record(&mut self.critical_exits, now, window);
            if exits >= critical.crashes as usize {
                self.state = State::Failed;
                return Exit::Reboot(RebootCause::Critical {
                    exits,
                    window_s: critical.window_s,
                });
            }
        }
        if service.once {
            self.state = State::Done;
            return Exit::Done;
        }
        let crashes = record(&mut self.crashes, now, CRASH_WINDOW);
        if crashes >= CRASH_LIMIT {
            self.state = State::Failed;
            return Exit::GiveUp { crashes };
        }
        self.restarts += 1;
        Exit::Restart { crash: crashes }
    }
}

/// Forgets the times in `times` older than `window` before `now`, adds `now`; returns how
/// many remain.
fn record(times: &mut Vec<Duration>, now: Duration, window: Duration) -> usize {
    times.retain(|t| now.saturating_sub(*t) < window);
    times.push(now);
    times.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use initcfg::Critical;

    fn service() -> Service {
        Service {
            name: "svc".into(),
            path: vec!["/bin/svc".into()],
            uid: 0,
            gid: 0,
            once: false,
            importance: 0,
            caps: Vec::new(),
            disabled: false,
            critical: None,
            console: false,
            writepid: Vec::new(),
            ondemand: false,
            priority: 20,
            unsupported_keys: Vec::new(),
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// A lifecycle of `service` started by a job and spawned.
    fn running(service: &Service) -> Lifecycle {
        let mut life = Lifecycle::new();
        assert_eq!(life.start(service, Origin::Job), Start::Spawn);
        life.spawned();
        life
    }

    /// Reports an exit at `at`; on a restart, spawns again.
    fn exit_at(life: &mut Lifecycle, service: &Service, at: Duration) -> Exit {
        let exit = life.exited(service, at, false);
        if let Exit::Restart { .. } = exit {
            life.spawned();
        }
        exit
    }

    #[test]
    fn the_fourth_exit_within_the_window_stops_the_restarts() {
        let svc = service();
        let mut life = running(&svc);
        for (n, at) in [(1, 0), (2, 10), (3, 20)] {
            assert_eq!(
                exit_at(&mut life, &svc, secs(at)),
                Exit::Restart { crash: n }
            );
            assert_eq!(life.state(), State::Running);
        }
        assert_eq!(
            exit_at(&mut life, &svc, secs(239)),
            Exit::GiveUp { crashes: 4 }
        );
        assert_eq!(life.state(), State::Failed);
        assert_eq!(life.restarts(), 3);
    }

    #[test]
    fn exits_older_than_the_window_do_not_count() {
        let svc = service();
        let mut life = running(&svc);
        // One exit every 100 s: at most three are ever within 240 s of each other.
        for at in (0..20).map(|i| secs(i * 100)) {
            let exit = exit_at(&mut life, &svc, at);
            assert!(
                matches!(exit, Exit::Restart { crash } if crash <= 3),
                "{exit:?}"
            );
        }
        assert_eq!(life.restarts(), 20);
        // Three exits at 0, 1, 2 s; the fourth at exactly 240 s is outside the first's window.
        let mut life = running(&svc);
        for at in [0, 1, 2] {
            exit_at(&mut life, &svc, secs(at));
        }
        assert_eq!(
            exit_at(&mut life, &svc, CRASH_WINDOW),
            Exit::Restart { crash: 3 }
        );
    }

    #[test]
    fn an_explicit_start_gives_a_fresh_budget() {
        let svc = service();
        let mut life = running(&svc);
        for at in 0..4 {
            exit_at(&mut life, &svc, secs(at));
        }
        assert_eq!(life.state(), State::Failed);
        assert_eq!(life.start(&svc, Origin::Request), Start::Spawn);
        life.spawned();
        assert_eq!(
            exit_at(&mut life, &svc, secs(5)),
            Exit::Restart { crash: 1 }
        );
    }

    #[test]
    fn importance_reboots_at_the_first_exit() {
        let svc = Service {
            importance: -2,
            once: true,
            ..service()
        };
        let mut life = running(&svc);
        assert_eq!(
            life.exited(&svc, secs(1), false),
            Exit::Reboot(RebootCause::Importance(-2))
        );
        assert_eq!(life.state(), State::Failed);
    }

    #[test]
    fn critical_reboots_at_the_nth_exit_within_its_window() {
        let svc = Service {
            critical: Some(Critical {
                crashes: 3,
                window_s: 60,
            }),
            ..service()
        };
        let mut life = running(&svc);
        assert_eq!(
            exit_at(&mut life, &svc, secs(0)),
            Exit::Restart { crash: 1 }
        );
        assert_eq!(
            exit_at(&mut life, &svc, secs(30)),
            Exit::Restart { crash: 2 }
        );
        assert_eq!(
            exit_at(&mut life, &svc, secs(59)),
            Exit::Reboot(RebootCause::Critical {
                exits: 3,
                window_s: 60
            })
        );
        // Spread wider than the window, the same exits only restart it (and the crash
        // budget of 240 s still applies).
        let mut life = running(&svc);
        assert_eq!(
            exit_at(&mut life, &svc, secs(0)),
            Exit::Restart { crash: 1 }
        );
        assert_eq!(
            exit_at(&mut life, &svc, secs(50)),
            Exit::Restart { crash: 2 }
        );
        assert_eq!(
            exit_at(&mut life, &svc, secs(100)),
            Exit::Restart { crash: 3 }
        );
        assert_eq!(
            exit_at(&mut life, &svc, secs(150)),
            Exit::GiveUp { crashes: 4 }
        );
    }

    #[test]
    fn a_once_service_is_done_after_one_run() {
        let svc = Service {
            once: true,
            ..service()
        };
        let mut life = running(&svc);
        assert_eq!(life.exited(&svc, secs(1), false), Exit::Done);
        assert_eq!(life.state(), State::Done);
        assert_eq!(life.restarts(), 0);
        // It can be run again on request.
        assert_eq!(life.start(&svc, Origin::Request), Start::Spawn);
    }

    #[test]
    fn a_stopped_service_is_not_restarted() {
        let svc = Service {
            importance: 1,
            ..service()
        };
        let mut life = running(&svc);
        assert_eq!(life.stop(true), Stop::Terminate);
        assert_eq!(life.state(), State::Stopping);
        // Not even an important one: stopping it was the point.
        assert_eq!(life.exited(&svc, secs(1), false), Exit::Stopped);
        assert_eq!(life.state(), State::Stopped);
        assert_eq!(life.stop(false), Stop::NotRunning);
        assert_eq!(life.state(), State::Stopped);
    }

    #[test]
    fn stopping_a_service_that_does_not_run_marks_it_stopped() {
        let svc = service();
        let mut life = Lifecycle::new();
        assert_eq!(life.stop(false), Stop::NotRunning);
        assert_eq!(life.state(), State::Stopped);
        // A second stop while the first SIGTERM is pending keeps it stopping.
        let mut life = running(&svc);
        assert_eq!(life.stop(true), Stop::Terminate);
        assert_eq!(life.stop(true), Stop::NotRunning);
        assert_eq!(life.state(), State::Stopping);
    }

    #[test]
    fn exits_while_the_machine_goes_down_are_stops() {
        let svc = Service {
            importance: 1,
            ..service()
        };
        let mut life = running(&svc);
        life.shutting_down();
        assert_eq!(life.exited(&svc, secs(1), true), Exit::Stopped);
        let mut life = running(&svc);
        assert_eq!(life.exited(&svc, secs(1), true), Exit::Stopped);
    }

    #[test]
    fn the_jobs_skip_disabled_and_ondemand_services_a_request_does_not() {
        let disabled = Service {
            disabled: true,
            ..service()
        };
        let ondemand = Service {
            ondemand: true,
            ..service()
        };
        let mut life = Lifecycle::new();
        assert_eq!(life.start(&disabled, Origin::Job), Start::Disabled);
        assert_eq!(life.start(&ondemand, Origin::Job), Start::OnDemand);
        assert_eq!(life.state(), State::Idle);
        assert_eq!(life.start(&disabled, Origin::Request), Start::Spawn);
        life.spawned();
        assert_eq!(
            life.start(&disabled, Origin::Request),
            Start::AlreadyRunning
        );
    }

    #[test]
    fn a_service_that_cannot_be_spawned_fails() {
        let svc = service();
        let mut life = Lifecycle::new();
        assert_eq!(life.start(&svc, Origin::Job), Start::Spawn);
        life.spawn_failed();
        assert_eq!(life.state(), State::Failed);
        assert_eq!(life.state().name(), "failed");
    }
}
