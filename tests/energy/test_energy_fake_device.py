"""The GPU tests of the energy models and kernels, run on the CPU stand-in for CuPy.

Every test of ``test_energy_gpu.py`` runs here with ``tests/fake_device.py`` in CuPy's
place: the models are moved with ``.to('cuda')``, their arrays are "device" arrays that
refuse to mix with host arrays and refuse implicit copies to the host, random numbers
come from the device generator, and the fused kernels run from their C source. So the
dispatch (every array of a training step and a sampler on the model's device, no host
copy inside a step) is exercised in CI without a GPU; whether CUDA and CuPy accept the
code is left to ``test_energy_gpu.py`` on a GPU.
"""
from __future__ import annotations

import pytest
import test_energy_gpu as on_gpu
from fake_device import HostDeviceMix, install

from neuronet import backend

globals().update({name: getattr(on_gpu, name) for name in dir(on_gpu) if name.startswith("test_")})


@pytest.fixture(scope="module")
def cupy():
    mp = pytest.MonkeyPatch()
    yield install(mp)
    mp.undo()
    from neuronet.kernels import cupy_kernels
    cupy_kernels._kernel.cache_clear()


def test_the_stand_in_refuses_what_cupy_refuses(cupy):
    """Not vacuous: mixing a host array with a device array, or an implicit host copy, raises."""
    import numpy as np

    d = cupy.asarray(np.ones(3))
    assert backend.get_array_module(d) is cupy
    with pytest.raises(HostDeviceMix):
        d + np.ones(3)
    with pytest.raises(HostDeviceMix):
        np.matmul(np.ones((2, 3)), d)
    with pytest.raises(TypeError, match="implicit conversion"):
        np.asarray(d)
    assert isinstance(d.sum(), cupy.ndarray) and float(d.sum()) == 3.0
