//! A window over the last N values with running sums of the values and of
//! their squares, updated by adding the newest and subtracting the oldest
//! (as TA-Lib does), so every statistic over it is O(1).

use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub struct RollingSums {
    capacity: usize,
    values: VecDeque<f64>,
    sum: f64,
    sum_sq: f64,
}

impl RollingSums {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self { capacity, values: VecDeque::with_capacity(capacity + 1), sum: 0.0, sum_sq: 0.0 }
    }

    /// Adds `x`, dropping the oldest value once the window is full.
    pub fn push(&mut self, x: f64) {
        self.values.push_back(x);
        self.sum += x;
        self.sum_sq += x * x;
        if self.values.len() > self.capacity
            && let Some(old) = self.values.pop_front()
        {
            self.sum -= old;
            self.sum_sq -= old * old;
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_full(&self) -> bool {
        self.values.len() == self.capacity
    }

    pub fn sum(&self) -> f64 {
        self.sum
    }

    pub fn sum_sq(&self) -> f64 {
        self.sum_sq
    }

    /// The mean of the values held (0 when empty).
    pub fn mean(&self) -> f64 {
        self.sum / self.values.len().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::RollingSums;

    #[test]
    fn keeps_the_last_values_and_their_sums() {
        let mut window = RollingSums::new(3);
        for x in [1.0, 2.0, 3.0, 4.0] {
            window.push(x);
        }
        assert!(window.is_full());
        assert_eq!((window.len(), window.sum(), window.sum_sq(), window.mean()), (3, 9.0, 29.0, 3.0));
    }
}
