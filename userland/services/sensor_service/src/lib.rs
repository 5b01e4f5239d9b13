//! `sensor_service`'s shared part: the protocol of service [`SENSOR_SERVICE`], feature
//! [`SENSOR_FEATURE`] (upstream sensor lite's names), the deterministic signals, and
//! [`SensorClient`].
//!
//! Sensors are virtual: [`Sensor::sample`] is a pure function of a sample counter, so
//! readings can be checked. A subscription sends `count` readings (samples 0, 1, ...) to the
//! subscriber's identity (an `OBJ_SVC`, e.g. from `Endpoint::add_callback`), one every
//! `interval_ms`, as one-way [`SENSOR_DATA`] messages from a thread of the service; it ends
//! early if the subscriber goes away or unsubscribes.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use samgr::Error;
use samgr::client::{RemoteProxy, get_remote};
use samgr::ipc::{IoError, IpcReader, IpcWriter};

/// Service name.
pub const SENSOR_SERVICE: &str = "SensorService";
/// Feature name (the exported API).
pub const SENSOR_FEATURE: &str = "SensorFeature";

/// — → `u32 n`, then `n` × (`u32 id, string name, u32 kind, u32 max_rate_hz`).
pub const LIST: u32 = 1;
/// `u32 id` → a [`Reading`] of the sensor's next sample.
pub const READ: u32 = 2;
/// `u32 id, u32 count, u32 interval_ms, svc subscriber` → `u32 subscription`.
pub const SUBSCRIBE: u32 = 3;
/// `u32 subscription` → —.
pub const UNSUBSCRIBE: u32 = 4;
/// One-way to a subscriber: `u32 subscription`, then a [`Reading`].
pub const SENSOR_DATA: u32 = 1;

/// Most readings per subscription.
pub const MAX_COUNT: u32 = 1000;
/// Shortest interval between readings.
pub const MIN_INTERVAL_MS: u32 = 10;
/// Most concurrent subscriptions.
pub const MAX_SUBSCRIPTIONS: usize = 8;

/// Sensor kinds (upstream `SensorTypeId` values).
pub const KIND_ACCELEROMETER: u32 = 1;
/// Ambient light.
pub const KIND_AMBIENT_LIGHT: u32 = 5;

/// A virtual sensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sensor {
    /// Id.
    pub id: u32,
    /// Name.
    pub name: &'static str,
    /// Kind.
    pub kind: u32,
    /// Fastest rate.
    pub max_rate_hz: u32,
}

/// The sensors this service offers.
pub const SENSORS: [Sensor; 2] = [
    Sensor {
        id: 0,
        name: "accelerometer",
        kind: KIND_ACCELEROMETER,
        max_rate_hz: 100,
    },
    Sensor {
        id: 1,
        name: "ambient_light",
        kind: KIND_AMBIENT_LIGHT,
        max_rate_hz: 10,
    },
];

/// A reading: sample index and three values (accelerometer: milli-g on x, y, z; light:
/// lux, 0, 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    /// Sample index.
    pub sample: u64,
    /// Values.
    pub values: [i32; 3],
}

/// A triangle wave of period `period` between `-amplitude` and `amplitude`.
fn triangle(n: u64, period: u64, amplitude: i32) -> i32 {
    let phase = (n % period) as i64;
    let half = (period / 2) as i64;
    let up = if phase < half {
        phase
    } else {
        period as i64 - phase
    };
    (-(amplitude as i64) + 2 * amplitude as i64 * up / half) as i32
}

impl Sensor {
    /// The sensor's value at sample `n`: the accelerometer lies flat (z = 1000 mg) and
    /// sways on x and y; the light level steps up and down.
    pub fn sample(&self, n: u64) -> Reading {
        let values = match self.kind {
            KIND_ACCELEROMETER => [triangle(n, 20, 500), triangle(n + 5, 20, 250), 1000],
            _ => [300 + 10 * (n % 8) as i32, 0, 0],
        };
        Reading { sample: n, values }
    }
}

impl Reading {
    /// Writes it.
    pub fn write(&self, out: &mut dyn IpcWriter) -> Result<(), IoError> {
        out.push_u64(self.sample)?;
        for v in self.values {
            out.push_i32(v)?;
        }
        Ok(())
    }

    /// Reads one.
    pub fn read(input: &mut dyn IpcReader) -> Result<Reading, IoError> {
        Ok(Reading {
            sample: input.pop_u64()?,
            values: [input.pop_i32()?, input.pop_i32()?, input.pop_i32()?],
        })
    }
}

/// What LIST says about a sensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SensorInfo {
    /// Id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: u32,
    /// Fastest rate.
    pub max_rate_hz: u32,
}

/// A client of the sensor feature.
pub struct SensorClient(pub Arc<RemoteProxy>);

impl SensorClient {
    /// Looks the feature up through samgr.
    pub fn connect() -> Result<SensorClient, Error> {
        get_remote(SENSOR_SERVICE, Some(SENSOR_FEATURE)).map(SensorClient)
    }

    /// LIST.
    pub fn list(&self) -> Result<Vec<SensorInfo>, Error> {
        self.0.invoke(
            LIST,
            |_| Ok(()),
            |r| {
                let n = r.pop_u32()?;
                (0..n)
                    .map(|_| {
                        Ok(SensorInfo {
                            id: r.pop_u32()?,
                            name: String::from(r.pop_string()?),
                            kind: r.pop_u32()?,
                            max_rate_hz: r.pop_u32()?,
                        })
                    })
                    .collect()
            },
        )
    }

    /// READ.
    pub fn read(&self, id: u32) -> Result<Reading, Error> {
        self.0.invoke(READ, |w| w.push_u32(id), Reading::read)
    }

    /// SUBSCRIBE.
    pub fn subscribe(
        &self,
        id: u32,
        count: u32,
        interval_ms: u32,
        to: abi::liteipc::SvcIdentity,
    ) -> Result<u32, Error> {
        self.0.invoke(
            SUBSCRIBE,
            |w| {
                w.push_u32(id)?;
                w.push_u32(count)?;
                w.push_u32(interval_ms)?;
                w.push_svc(to)
            },
            |r| r.pop_u32(),
        )
    }

    /// UNSUBSCRIBE.
    pub fn unsubscribe(&self, subscription: u32) -> Result<(), Error> {
        self.0
            .invoke(UNSUBSCRIBE, |w| w.push_u32(subscription), |_| Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_are_deterministic_and_bounded() {
        let accel = SENSORS[0];
        assert_eq!(accel.sample(0).values, [-500, 0, 1000]);
        assert_eq!(accel.sample(10).values[0], 500);
        assert_eq!(
            accel.sample(20),
            Reading {
                sample: 20,
                ..accel.sample(0)
            }
        );
        for n in 0..100 {
            let r = accel.sample(n);
            assert!(r.values[0].abs() <= 500 && r.values[1].abs() <= 250);
        }
        assert_eq!(SENSORS[1].sample(3).values, [330, 0, 0]);
    }

    #[test]
    fn readings_round_trip() {
        let mut io = samgr::MemIo::new();
        let r = SENSORS[0].sample(7);
        r.write(&mut io).unwrap();
        assert_eq!(Reading::read(&mut io), Ok(r));
    }
}
