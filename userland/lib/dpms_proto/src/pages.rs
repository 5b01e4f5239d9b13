//! DPMS's page table: ids, URIs, states and processes, and every transition, so the
//! daemon's event loop only moves messages. A page is removed when it goes away after a
//! close (or reports `stopped`); one that goes away on its own is kept as `dead`, so
//! `page list` shows the crash until the page is closed.

use crate::message::{PageInfo, PageState};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

/// Why a table operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageError {
    /// No page with that id.
    NoSuchPage(u32),
    /// Too many pages.
    Full,
}

/// What closing a page takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Close {
    /// Ask seed to kill the page process (`pid` if known yet).
    Kill {
        /// The process, if known.
        pid: Option<u32>,
    },
    /// A close is already under way.
    AlreadyClosing,
    /// The page was dead: it is now removed.
    Removed,
}

/// How a page's end was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gone {
    /// It was closing (or stopped on request): removed from the table.
    Removed,
    /// It ended on its own: now `dead`.
    Died,
    /// Already dead or unknown: nothing changed.
    Unchanged,
}

/// Most pages at once.
pub const MAX_PAGES: usize = 32;

/// The page table.
#[derive(Clone, Debug, Default)]
pub struct PageTable {
    pages: BTreeMap<u32, PageInfo>,
    last_id: u32,
}

impl PageTable {
    /// An empty table; ids start at 1.
    pub const fn new() -> PageTable {
        PageTable {
            pages: BTreeMap::new(),
            last_id: 0,
        }
    }

    /// A new page for `uri`, `pending` until its fork request is sent.
    pub fn open(&mut self, uri: &str) -> Result<u32, PageError> {
        if self.pages.len() >= MAX_PAGES {
            return Err(PageError::Full);
        }
        self.last_id = self.last_id.wrapping_add(1).max(1);
        let id = self.last_id;
        self.pages.insert(
            id,
            PageInfo {
                id,
                uri: String::from(uri),
                state: PageState::Pending,
                pid: None,
            },
        );
        Ok(id)
    }

    /// Page `id`, if any.
    pub fn get(&self, id: u32) -> Option<&PageInfo> {
        self.pages.get(&id)
    }

    /// Every page, by id.
    pub fn list(&self) -> Vec<PageInfo> {
        self.pages.values().cloned().collect()
    }

    /// The page whose process is `pid`.
    pub fn by_pid(&self, pid: u32) -> Option<u32> {
        self.pages
            .values()
            .find(|p| p.pid == Some(pid))
            .map(|p| p.id)
    }

    /// The fork request of page `id` went to seed.
    pub fn fork_sent(&mut self, id: u32) {
        if let Some(page) = self.pages.get_mut(&id)
            && page.state == PageState::Pending
        {
            page.state = PageState::Starting;
        }
    }

    /// seed spawned page `id` as `pid`.
    pub fn forked(&mut self, id: u32, pid: u32) -> Result<(), PageError> {
        let page = self.pages.get_mut(&id).ok_or(PageError::NoSuchPage(id))?;
        page.pid = Some(pid);
        if page.state == PageState::Pending {
            page.state = PageState::Starting;
        }
        Ok(())
    }

    /// seed could not spawn page `id`.
    pub fn fork_failed(&mut self, id: u32) -> Gone {
        self.gone(id)
    }

    /// Page `id` reported `running` from process `pid` (its socket peer).
    pub fn running(&mut self, id: u32, pid: u32) -> Result<(), PageError> {
        let page = self.pages.get_mut(&id).ok_or(PageError::NoSuchPage(id))?;
        page.pid = Some(pid);
        if matches!(page.state, PageState::Pending | PageState::Starting) {
            page.state = PageState::Running;
        }
        Ok(())
    }

    /// Close page `id`.
    pub fn close(&mut self, id: u32) -> Result<Close, PageError> {
        let page = self.pages.get_mut(&id).ok_or(PageError::NoSuchPage(id))?;
        match page.state {
            PageState::Closing => Ok(Close::AlreadyClosing),
            PageState::Dead => {
                self.pages.remove(&id);
                Ok(Close::Removed)
            }
            PageState::Pending | PageState::Starting | PageState::Running => {
                page.state = PageState::Closing;
                Ok(Close::Kill { pid: page.pid })
            }
        }
    }

    /// Page `id` stopped on request (`page <id> stopped`): removed.
    pub fn stopped(&mut self, id: u32) -> Gone {
        match self.pages.remove(&id) {
            Some(_) => Gone::Removed,
            None => Gone::Unchanged,
        }
    }

    /// Page `id`'s process ended, or its connection to DPMS closed.
    pub fn gone(&mut self, id: u32) -> Gone {
        let Some(page) = self.pages.get_mut(&id) else {
            return Gone::Unchanged;
        };
        match page.state {
            PageState::Closing => {
                self.pages.remove(&id);
                Gone::Removed
            }
            PageState::Dead => Gone::Unchanged,
            PageState::Pending | PageState::Starting | PageState::Running => {
                page.state = PageState::Dead;
                Gone::Died
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(table: &PageTable, id: u32) -> Option<PageState> {
        table.get(id).map(|p| p.state)
    }

    #[test]
    fn a_page_opens_runs_and_closes() {
        let mut t = PageTable::new();
        let id = t.open("page://a").expect("open");
        assert_eq!(id, 1);
        assert_eq!(state(&t, id), Some(PageState::Pending));
        t.fork_sent(id);
        assert_eq!(state(&t, id), Some(PageState::Starting));
        t.forked(id, 9).expect("forked");
        t.running(id, 9).expect("running");
        assert_eq!(state(&t, id), Some(PageState::Running));
        assert_eq!(t.by_pid(9), Some(id));
        assert_eq!(t.close(id), Ok(Close::Kill { pid: Some(9) }));
        assert_eq!(t.close(id), Ok(Close::AlreadyClosing));
        assert_eq!(t.gone(id), Gone::Removed);
        assert_eq!(
            t.gone(id),
            Gone::Unchanged,
            "seed's exit after the socket closed"
        );
        assert!(t.list().is_empty());
    }

    #[test]
    fn a_crash_leaves_a_dead_page_until_closed() {
        let mut t = PageTable::new();
        let id = t.open("page://crash").expect("open");
        t.running(id, 5).expect("running");
        assert_eq!(t.gone(id), Gone::Died);
        assert_eq!(state(&t, id), Some(PageState::Dead));
        assert_eq!(t.gone(id), Gone::Unchanged);
        assert_eq!(t.running(id, 5), Ok(()));
        assert_eq!(
            state(&t, id),
            Some(PageState::Dead),
            "a dead page stays dead"
        );
        assert_eq!(t.close(id), Ok(Close::Removed));
        assert_eq!(t.close(id), Err(PageError::NoSuchPage(id)));
    }

    #[test]
    fn closing_a_pending_page_kills_it_by_page_id() {
        let mut t = PageTable::new();
        let id = t.open("page://a").expect("open");
        assert_eq!(t.close(id), Ok(Close::Kill { pid: None }));
        // The page reports before the kill lands: it stays closing.
        t.running(id, 3).expect("running");
        assert_eq!(state(&t, id), Some(PageState::Closing));
    }

    #[test]
    fn ids_are_unique_and_listed_in_order() {
        let mut t = PageTable::new();
        let a = t.open("a").expect("a");
        let b = t.open("b").expect("b");
        t.close(a).expect("close");
        t.gone(a);
        let c = t.open("c").expect("c");
        assert!(a < b && b < c);
        let ids: Vec<u32> = t.list().iter().map(|p| p.id).collect();
        assert_eq!(ids, [b, c]);
    }

    #[test]
    fn the_table_is_bounded() {
        let mut t = PageTable::new();
        for _ in 0..MAX_PAGES {
            t.open("p").expect("room");
        }
        assert_eq!(t.open("p"), Err(PageError::Full));
    }

    #[test]
    fn stopped_pages_are_removed() {
        let mut t = PageTable::new();
        let id = t.open("a").expect("a");
        t.running(id, 2).expect("running");
        assert_eq!(t.stopped(id), Gone::Removed);
        assert_eq!(t.stopped(id), Gone::Unchanged);
    }
}
