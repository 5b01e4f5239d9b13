//! The two things samgr runs (upstream `service.h`, `feature.h`; seed 001): a [`Service`] owns
//! a task pool and zero or more [`Feature`]s; each may offer an API ([`Api`](crate::Api)).
//! Upstream's function-pointer structs (`INHERIT_SERVICE`, `INHERIT_FEATURE`) become traits;
//! samgr keeps the objects as `Arc`s and calls them on the service's pool thread.

use crate::message::{Identity, Request};
use crate::task::TaskConfig;

/// A service's lifecycle (`GetName`, `Initialize`, `MessageHandle`, `GetTaskConfig`).
pub trait Service: Send + Sync + 'static {
    /// The unique name (1..16 bytes), the registry key.
    fn name(&self) -> &str;

    /// Called once on the service's own thread during bootstrap, before its features'
    /// [`Feature::on_initialize`]; `identity` addresses the service (feature id -1).
    fn initialize(&self, identity: Identity) -> bool;

    /// Handles a request sent to the service's identity. Answer a `MSG_CON` request with
    /// `Samgr::send_response`; an unanswered one gets an empty response afterwards.
    fn message_handle(&self, request: &mut Request) -> bool;

    /// Thread requirements; read when the service is registered.
    fn task_config(&self) -> TaskConfig;
}

/// A feature's lifecycle (`GetName`, `OnInitialize`, `OnStop`, `OnMessage`).
pub trait Feature: Send + Sync + 'static {
    /// The name, unique within its service.
    fn name(&self) -> &str;

    /// Called on the parent's thread after the parent's [`Service::initialize`].
    fn on_initialize(&self, parent: &dyn Service, identity: Identity);

    /// Called when the feature is unregistered.
    fn on_stop(&self, identity: Identity);

    /// Handles a request sent to the feature's identity (see [`Service::message_handle`]).
    fn on_message(&self, request: &mut Request) -> bool;
}
