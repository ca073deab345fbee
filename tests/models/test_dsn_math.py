"""DSN module math: the closed-form upper weights and the fine-tuning gradient (issue 16)."""
from __future__ import annotations

import numpy as np
import pytest

from neuronet.gradcheck import numerical_gradient
from neuronet.models.dsn_module import (DSNModule, accumulate_finetune_gradient, solve_upper,
                                        upper_statistics)
from neuronet.models.ridge import RidgeStatistics


def _chunks(Z, T, size):
    return [(Z[i:i + size], T[i:i + size]) for i in range(0, len(Z), size)]


def _module(D=5, h=4, C=3, seed=0):
    m = DSNModule(D, h, C, init=1.0, seed=seed, dtype=np.float64)
    m.b.data[...] = np.random.default_rng(seed + 1).normal(size=h)
    return m


@pytest.mark.parametrize("ridge", [0.0, 0.3, 5.0])
def test_ridge_solution_equals_lstsq_on_augmented_system(rng, ridge):
    H, T = rng.normal(size=(40, 6)), rng.normal(size=(40, 3))
    U = RidgeStatistics(6, 3).add(H, T).solve(ridge)
    # min ‖HU − T‖² + λ‖U‖² is least squares on [H; √λ I] U = [T; 0]
    A = np.vstack([H, np.sqrt(ridge) * np.eye(6)])
    B = np.vstack([T, np.zeros((6, 3))])
    expected = np.linalg.lstsq(A, B, rcond=None)[0]
    np.testing.assert_allclose(U, expected, rtol=1e-10, atol=1e-12)


def test_ridge_zero_with_singular_statistics_gives_least_squares(rng):
    H = rng.normal(size=(20, 3))
    H = np.hstack([H, H[:, :1]])            # a repeated column: HᵀH is singular
    T = rng.normal(size=(20, 2))
    U = RidgeStatistics(4, 2).add(H, T).solve(0.0)
    np.testing.assert_allclose(H @ U, H @ np.linalg.lstsq(H, T, rcond=None)[0], atol=1e-10)


def test_batched_statistics_equal_whole_batch(rng):
    H, T = rng.normal(size=(53, 7)), rng.normal(size=(53, 2))
    whole = RidgeStatistics(7, 2).add(H, T)
    batched = RidgeStatistics(7, 2)
    for i in range(0, 53, 10):
        batched.add(H[i:i + 10], T[i:i + 10])
    np.testing.assert_allclose(batched.HtH, whole.HtH, rtol=1e-12)
    np.testing.assert_allclose(batched.solve(0.5), whole.solve(0.5), rtol=1e-10)
    # two "processes" with halves of the data, merged
    a = RidgeStatistics(7, 2).add(H[:20], T[:20])
    b = RidgeStatistics(7, 2).add(H[20:], T[20:])
    merged = a + b
    assert merged.n == 53 and a.n == 20
    np.testing.assert_allclose(merged.solve(0.5), whole.solve(0.5), rtol=1e-10)


def test_objective_from_statistics_equals_residual(rng):
    m = _module()
    Z, T = rng.normal(size=(30, 5)), rng.normal(size=(30, 3))
    sol = solve_upper(m, _chunks(Z, T, 7), ridge=0.2)
    direct = ((m.forward(Z) - T) ** 2).sum() / 30
    assert sol.objective == pytest.approx(direct, rel=1e-10)


@pytest.mark.parametrize("ridge", [0.0, 0.05, 2.0])
def test_finetune_gradient_equals_finite_differences(rng, ridge):
    m = _module()
    Z, T = rng.normal(size=(12, 5)), rng.normal(size=(12, 3))
    batches = _chunks(Z, T, 5)

    def J():
        return solve_upper(m, batches, ridge).objective

    sol = solve_upper(m, batches, ridge)
    m.zero_grad()
    value = accumulate_finetune_gradient(m, batches, sol)
    assert value == pytest.approx(sol.objective, rel=1e-10)
    for p in (m.W, m.b):
        numeric = numerical_gradient(J, p.data, eps=1e-6)
        np.testing.assert_allclose(p.grad, numeric, rtol=1e-6, atol=1e-9)
    assert np.abs(m.W.grad).max() > 1e-3      # the check is not of a vanishing gradient


def test_ridge_terms_matter_in_the_gradient(rng):
    # Deng et al.'s λ = 0 formula (2/N) R Uᵀ is wrong once λ > 0: the extra terms are needed
    m = _module()
    Z, T = rng.normal(size=(12, 5)), rng.normal(size=(12, 3))
    sol = solve_upper(m, [(Z, T)], 2.0)
    m.zero_grad()
    accumulate_finetune_gradient(m, [(Z, T)], sol)
    full = m.W.grad.copy()
    H = m.hidden_units(Z)
    naive = Z.T @ ((2 / 12) * (H @ sol.U - T) @ sol.U.T * H * (1 - H))
    assert np.abs(full - naive).max() > 1e-3 * np.abs(full).max()


def test_module_backward_matches_finite_differences(rng):
    m = _module()
    m.U.data[...] = rng.normal(size=m.U.shape)
    Z, dy = rng.normal(size=(6, 5)), rng.normal(size=(6, 3))
    m.forward(Z)
    m.zero_grad()
    dz = m.backward(dy)
    for p in m.parameters():
        numeric = numerical_gradient(lambda: float((m.forward(Z) * dy).sum()), p.data)
        np.testing.assert_allclose(p.grad, numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dz, numerical_gradient(lambda: float((m.forward(Z) * dy).sum()), Z),
                               rtol=1e-6, atol=1e-9)


def test_finetune_gradient_equals_torch_autograd(rng):
    torch = pytest.importorskip("torch")
    m = _module(D=6, h=5, C=2)
    Z, T = rng.normal(size=(20, 6)), rng.normal(size=(20, 2))
    ridge = 0.7
    sol = solve_upper(m, _chunks(Z, T, 8), ridge)
    m.zero_grad()
    accumulate_finetune_gradient(m, _chunks(Z, T, 8), sol)
    W = torch.tensor(m.W.data, requires_grad=True)
    b = torch.tensor(m.b.data, requires_grad=True)
    Zt, Tt = torch.tensor(Z), torch.tensor(T)
    H = torch.sigmoid(Zt @ W + b)
    U = torch.linalg.solve(H.T @ H + ridge * torch.eye(5, dtype=torch.float64), H.T @ Tt)
    J = ((H @ U - Tt) ** 2).sum() / 20
    J.backward()
    assert float(J.detach()) == pytest.approx(sol.objective, rel=1e-10)
    np.testing.assert_allclose(m.W.grad, W.grad.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(m.b.grad, b.grad.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(m.U.data, U.detach().numpy(), rtol=1e-8)


@pytest.mark.parametrize("ridge", [0.0, 1.0])
def test_a_finetuning_step_lowers_the_objective(ridge):
    from neuronet.data.toy import load_digits
    X, y = load_digits(dtype=np.float64)
    X, y = X[:300], y[:300]
    T = np.eye(10)[y]
    m = DSNModule(64, 40, 10, seed=3, dtype=np.float64)
    batches = _chunks(X, T, 128)
    sol = solve_upper(m, batches, ridge)
    m.zero_grad()
    accumulate_finetune_gradient(m, batches, sol)
    g2 = float((m.W.grad ** 2).sum() + (m.b.grad ** 2).sum())
    lr = 0.5
    m.W.data -= lr * m.W.grad
    m.b.data -= lr * m.b.grad
    after = solve_upper(m, batches, ridge).objective
    assert after < sol.objective
    # and by about the first-order amount lr‖∇J‖² (the gradient is the slope of J)
    assert sol.objective - after == pytest.approx(lr * g2, rel=0.2)


def test_module_curvature_is_the_gauss_newton_diagonal(rng):
    # for E = MSE (∂²E/∂y² = 1/N) the diagonal Gauss-Newton of a parameter θ is Σ_n,c (∂y_nc/∂θ)²/N;
    # a weight of this module feeds one hidden unit, so the pass drops no cross terms: it is exact
    m = _module()
    m.U.data[...] = rng.normal(size=m.U.shape)
    Z = rng.normal(size=(6, 5))
    m.forward(Z)
    m.zero_curv()
    m.backward_curvature(np.full((6, 3), 1 / 6))
    for p in m.parameters():
        jac = np.zeros(p.shape + (6, 3))
        flat = p.data.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + 1e-6
            up = m.forward(Z)
            flat[i] = old - 1e-6
            jac.reshape(-1, 6, 3)[i] = (up - m.forward(Z)) / 2e-6
            flat[i] = old
        np.testing.assert_allclose(p.curv, (jac ** 2).sum(axis=(-2, -1)) / 6, rtol=1e-6, atol=1e-10)
