//! The pre-packed recurrent product (`seqlab::nn::gemm`) against a plain `f64` triple
//! loop on odd shapes, for every micro-kernel this CPU has, one and two threads.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use seqlab::nn::gemm::{available_kernels, gemm_acc, gemm_acc_with, PackedB};

fn random(rng: &mut StdRng, len: usize) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// Checks `c_out = c_in + A B` within 1e-5 of the sum of the magnitudes of its terms.
#[allow(clippy::too_many_arguments)]
fn check(
    what: &str,
    a: &[f32],
    lda: usize,
    m: usize,
    bkn: &dyn Fn(usize, usize) -> f32,
    k: usize,
    n: usize,
    c_in: &[f32],
    c_out: &[f32],
    ldc: usize,
) {
    for i in 0..m {
        for j in 0..ldc {
            let idx = i * ldc + j;
            if j >= n {
                assert_eq!(c_out[idx], c_in[idx], "{what}: padding column {j} written");
                continue;
            }
            let mut exact = c_in[idx] as f64;
            let mut scale = (c_in[idx] as f64).abs();
            for kk in 0..k {
                let t = a[i * lda + kk] as f64 * bkn(kk, j) as f64;
                exact += t;
                scale += t.abs();
            }
            let err = (c_out[idx] as f64 - exact).abs();
            assert!(
                err <= 1e-5 * scale.max(1e-30),
                "{what}: C[{i},{j}] = {} but the f64 loop gives {exact} (error {err:e}, scale {scale:e})",
                c_out[idx]
            );
        }
    }
}

/// Shapes `(m, k, n)`: rows not a multiple of 8 (nor 4), columns not a multiple of 32,
/// odd K, a single row, and exact multiples.
const SHAPES: [(usize, usize, usize); 9] = [
    (1, 1, 1),
    (1, 37, 45),
    (3, 5, 33),
    (7, 100, 400),
    (8, 64, 32),
    (13, 129, 100),
    (17, 31, 17),
    (32, 128, 512),
    (37, 257, 300),
];

#[test]
fn packed_product_matches_a_plain_loop_for_every_kernel_and_shape() {
    let mut rng = StdRng::seed_from_u64(7);
    for kernel in available_kernels() {
        for &(m, k, n) in &SHAPES {
            for &(pad_a, pad_c) in &[(0, 0), (3, 5)] {
                let (lda, ldc) = (k + pad_a, n + pad_c);
                let a = random(&mut rng, m * lda);
                let c_in = random(&mut rng, m * ldc);
                // B = W for W (K, N)
                let w = random(&mut rng, k * n);
                let mut pk = PackedB::new();
                pk.pack(&w, k, n);
                assert_eq!((pk.k(), pk.n()), (k, n));
                for threads in [1, 2] {
                    let mut c = c_in.clone();
                    gemm_acc_with(kernel, &a, lda, m, &pk, &mut c, ldc, threads);
                    let what = format!("{kernel:?} W {m}x{k}x{n} lda {lda} ldc {ldc} {threads}t");
                    check(
                        &what,
                        &a,
                        lda,
                        m,
                        &|kk, j| w[kk * n + j],
                        k,
                        n,
                        &c_in,
                        &c,
                        ldc,
                    );
                }
                // B = W^T for W (N, K)
                let wt = random(&mut rng, n * k);
                pk.pack_transposed(&wt, n, k);
                for threads in [1, 2] {
                    let mut c = c_in.clone();
                    gemm_acc_with(kernel, &a, lda, m, &pk, &mut c, ldc, threads);
                    let what = format!("{kernel:?} W^T {m}x{k}x{n} lda {lda} ldc {ldc} {threads}t");
                    check(
                        &what,
                        &a,
                        lda,
                        m,
                        &|kk, j| wt[j * k + kk],
                        k,
                        n,
                        &c_in,
                        &c,
                        ldc,
                    );
                }
            }
        }
    }
}

#[test]
fn two_threads_give_the_same_bits_as_one() {
    // large enough (m * n * k >= 2^18) for the helper thread to take part
    let (m, k, n) = (37, 257, 1000);
    let mut rng = StdRng::seed_from_u64(11);
    let a = random(&mut rng, m * k);
    let w = random(&mut rng, n * k);
    let c0 = random(&mut rng, m * n);
    let mut pk = PackedB::new();
    pk.pack_transposed(&w, n, k);
    let mut one = c0.clone();
    gemm_acc(&a, k, m, &pk, &mut one, n, 1);
    for _ in 0..50 {
        let mut two = c0.clone();
        gemm_acc(&a, k, m, &pk, &mut two, n, 2);
        assert!(
            one.iter()
                .zip(&two)
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "2 threads differ from 1"
        );
    }
}

#[test]
fn repacking_another_shape_reuses_nothing_stale() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut pk = PackedB::new();
    for &(m, k, n) in &[(5, 40, 70), (5, 9, 31), (4, 40, 70)] {
        let a = random(&mut rng, m * k);
        let w = random(&mut rng, k * n);
        pk.pack(&w, k, n);
        let c_in = vec![0.0f32; m * n];
        let mut c = c_in.clone();
        gemm_acc(&a, k, m, &pk, &mut c, n, 1);
        check(
            "repack",
            &a,
            k,
            m,
            &|kk, j| w[kk * n + j],
            k,
            n,
            &c_in,
            &c,
            n,
        );
    }
}

#[test]
fn training_with_split_recurrent_products_is_deterministic() {
    // medium's per-step products (32x1024x256) are split over two threads when the
    // thread setting is 2; two runs from the same seed must agree bit for bit
    let w = seqlab::bench::workload("medium").unwrap();
    let before = seqlab::blas::threads();
    seqlab::blas::set_threads(2);
    let run = || {
        let mut train = seqlab::bench::TrainBench::new(w, 5);
        let losses: Vec<f64> = (0..2).map(|_| train.step()).collect();
        (losses, train.net.params().to_vec())
    };
    let (a, b) = (run(), run());
    seqlab::blas::set_threads(before);
    assert!(a.0.iter().all(|l| l.is_finite()), "loss {:?}", a.0);
    assert_eq!(a.0, b.0, "losses differ");
    assert!(
        a.1.iter()
            .zip(&b.1)
            .all(|(x, y)| x.to_bits() == y.to_bits()),
        "parameters differ between two runs"
    );
}
