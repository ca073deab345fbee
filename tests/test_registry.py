"""One registry for what a spec or a config may name; a name is taken once."""
import pytest

import neuronet as nt
from neuronet.registry import REGISTRIES, Registry

def test_every_kind_is_in_one_place():
    assert {"module", "loss", "optimizer", "callback", "units"} <= set(REGISTRIES)
    assert REGISTRIES["module"]["Dense"] is nt.Dense
    assert REGISTRIES["loss"]["MSE"] is nt.MSE
    assert REGISTRIES["optimizer"]["Adam"] is nt.optim.Adam
    assert REGISTRIES["callback"]["StepLR"] is nt.StepLR
    assert REGISTRIES["units"]["gaussian"] is nt.energy.units.GaussianUnits


def test_a_second_class_under_a_taken_name_is_an_error():
    code = "import neuronet as nt\nclass Dense(nt.Module):\n    pass\n"
    with pytest.raises(ValueError, match="'Dense' is already registered.*replace=True"):
        exec(compile(code, "<user>", "exec"), {"__name__": "user_code"})
    assert REGISTRIES["module"]["Dense"] is nt.Dense


def test_replace_must_be_asked_for_and_works():
    reg = Registry("thing")
    A, B = type("A", (), {}), type("A", (), {"__module__": "elsewhere"})
    reg.add("A", A)
    with pytest.raises(ValueError, match="already registered"):
        reg.add("A", B)
    reg.add("A", B, replace=True)
    assert reg["A"] is B
    with pytest.raises(ValueError, match="unknown thing 'C'; known: A"):
        reg.get_class("C")


def test_the_same_definition_again_is_not_a_conflict():
    """A re-imported module defines its classes again: same module, same qualified name."""
    reg = Registry("thing")
    first, again = type("A", (), {"__module__": "m"}), type("A", (), {"__module__": "m"})
    reg.add("A", first)
    reg.add("A", again)
    assert reg["A"] is again


def test_local_and_private_classes_are_not_registered():
    class Helper(nt.Module):
        pass
    assert "Helper" not in REGISTRIES["module"]
    assert not [name for reg in REGISTRIES.values() for name in reg if name.startswith("_")]


def test_constructor_arguments_are_recorded_the_same_way_for_every_kind():
    assert nt.BinaryCrossEntropy(from_logits=True).spec() == {
        "type": "BinaryCrossEntropy", "args": {"from_logits": True}}
    assert nt.Dense(3, 2, bias=False).spec()["args"]["bias"] is False
    assert nt.StepLR(3, gamma=0.5).spec() == {"type": "StepLR", "args": {"step": 3, "gamma": 0.5}}
