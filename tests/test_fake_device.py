"""The library's other GPU tests (a training step of layers, loss and optimiser; every
optimiser rule on both GPU kernel paths) run on the CPU stand-in for CuPy
(``tests/fake_device.py``): the dispatch is exercised without a GPU. The energy models'
GPU tests run the same way in ``tests/energy/test_energy_fake_device.py``."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fake_device import install

sys.path.insert(0, str(Path(__file__).parent / "optim"))  # test_kernels imports test_optimizers

import test_backend  # noqa: E402
import test_kernels  # noqa: E402
from test_optimizers import RULES  # noqa: E402


@pytest.fixture
def fake(monkeypatch):
    yield install(monkeypatch)
    from neuronet.kernels import cupy_kernels
    cupy_kernels._kernel.cache_clear()


def test_training_step_on_the_stand_in_equals_cpu(fake):
    test_backend.test_training_step_on_gpu_equals_cpu()


@pytest.mark.parametrize("name", list(RULES))
@pytest.mark.parametrize("gpu_path", ["fused", "xp"])
def test_every_optimiser_on_the_stand_in_equals_cpu(fake, name, gpu_path, monkeypatch):
    test_kernels.test_every_optimiser_on_gpu_equals_cpu(name, gpu_path, monkeypatch)
