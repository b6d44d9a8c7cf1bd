"""The plain records diagnosis uses in place of dataclasses behave like them where it counts."""

import pytest

from bot.diagnosis.catalogue import SIGNATURES
from bot.diagnosis.engine import Finding
from bot.diagnosis.logline import Step
from bot.diagnosis.rules import Hit


def test_fields_in_order_with_defaults_and_keywords():
    f = Finding("qemu-sigill", "linux/arm64", None, 7, ["x"])
    assert (f.signature, f.platform, f.line, f.excerpt, f.file) == ("qemu-sigill", "linux/arm64", 7, ["x"], None)
    assert Finding("a", None, None, 1, [], file="log") == Finding("a", None, None, 1, [], "log")
    assert repr(Step(platform="linux/arm64")).startswith("Step(platform='linux/arm64', run_platform=None")


def test_bad_construction_is_a_type_error():
    with pytest.raises(TypeError, match="missing the field 'line'"):
        Finding("a", None, None)
    with pytest.raises(TypeError, match="no field 'colour'"):
        Step(colour="red")
    with pytest.raises(TypeError, match="takes 8 fields"):
        Step(*range(9))


def test_equality_is_by_value_and_class():
    assert Step(stage="build") == Step(stage="build")
    assert Step(stage="build") != Step(stage="test")
    assert Hit("cancel") != Step()


def test_mutable_records_copy_and_are_not_hashable():
    step = Step(instruction="RUN npm ci")
    twin = step.copy()
    twin.emulator = True
    assert step.emulator is False and twin.instruction == "RUN npm ci"
    with pytest.raises(TypeError):
        hash(step)


def test_frozen_records_refuse_assignment_and_hash_by_value():
    hit = Hit("finding", "qemu-sigill", needs_emulation=True)
    with pytest.raises(AttributeError, match="frozen Hit"):
        hit.weak = True
    assert hash(hit) == hash(Hit("finding", "qemu-sigill", needs_emulation=True))
    assert {SIGNATURES["qemu-sigill"]: 1}[SIGNATURES["qemu-sigill"]] == 1


def test_a_default_factory_gives_each_record_its_own_value_and_compare_false_leaves_it_out():
    a, b = Finding("a", None, None, 1, []), Finding("a", None, None, 1, [])
    assert a.legs == {} and a.legs is not b.legs
    a.legs["linux/arm64"] = 60.0
    assert b.legs == {} and a == b  # legs do not count in equality, as with the dataclass
    assert a.copy().legs == {"linux/arm64": 60.0}
    assert Finding("a", None, None, 1, [], legs={"linux/amd64": 1.0}).legs == {"linux/amd64": 1.0}
