//! CommonTest (Vector). NULL-vector and NULL-element cases (0060..0090) are ruled out by types.

use crate::vector::Vector;

#[derive(Debug, PartialEq)]
struct Item {
    id: usize,
}

#[test]
fn empty_vector() {
    // Common0010
    let v: Vector<Item> = Vector::new();
    assert_eq!((v.size(), v.num()), (0, 0));
    assert!(v.at(0).is_none());
    assert!(v.find(|_| true).is_none());
}

#[test]
fn add_one_and_swap() {
    // Common0020
    let mut v = Vector::new();
    assert_eq!(v.add(Item { id: 0 }), Some(0));
    assert_eq!((v.size(), v.num()), (1, 1));
    assert_eq!(v.at(0), Some(&Item { id: 0 }));
    assert_eq!(v.swap(0, Some(Item { id: 7 })), Some(Item { id: 0 }));
    assert_eq!(v.find(|i| i.id == 7), Some(0));
}

#[test]
fn add_ten() {
    // Common0030
    let mut v = Vector::new();
    for id in 0..10 {
        assert_eq!(v.add(Item { id }), Some(id));
    }
    assert_eq!((v.size(), v.num()), (10, 10));
    for id in 0..10 {
        assert_eq!(v.at(id).map(|i| i.id), Some(id));
        assert_eq!(v.find(|i| i.id == id), Some(id));
    }
}

#[test]
fn remove_leaves_holes() {
    // Common0040
    let mut v = Vector::new();
    for id in 0..10 {
        v.add(Item { id });
    }
    for i in 0..10 {
        assert_eq!(v.swap(i, None), Some(Item { id: i }));
        assert_eq!(v.size(), 10);
        assert_eq!(v.num(), 9 - i);
        assert!(v.at(i).is_none());
        assert!(v.find(|x| x.id == i).is_none());
    }
}

#[test]
fn add_remove_cycles_keep_indices() {
    // Common0050: 100×(add 10, delete 10), then add 10: found at their index, holes reused
    // only when full, Size > Num after deletions
    let mut v = Vector::new();
    for round in 0..100 {
        let ids: Vec<usize> = (0..10)
            .map(|k| v.add(Item { id: round * 10 + k }).unwrap())
            .collect();
        for (k, &i) in ids.iter().enumerate() {
            assert_eq!(v.at(i).map(|x| x.id), Some(round * 10 + k));
        }
        for &i in &ids {
            assert!(v.swap(i, None).is_some());
        }
        assert_eq!(v.num(), 0);
    }
    let ids: Vec<usize> = (0..10).map(|k| v.add(Item { id: k }).unwrap()).collect();
    for (k, &i) in ids.iter().enumerate() {
        assert_eq!(v.find(|x| x.id == k), Some(i));
    }
    v.swap(ids[3], None);
    assert!(v.size() > v.num());
    assert!(v.at(ids[3]).is_none());
}

#[test]
fn swap_out_of_range_is_none() {
    // Common0070 analogue: bad index
    let mut v: Vector<Item> = Vector::new();
    assert!(v.swap(5, None).is_none());
    assert_eq!(v.num(), 0);
}
