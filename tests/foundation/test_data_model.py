import numpy as np
import pytest
import scipp as sc

from latdyn.data import from_numpy, make_spectrum, make_sq, make_sqe, to_numpy, validate
from latdyn.errors import InputError


def test_sqe_points_and_edges_round_trip():
    q = np.linspace(0.5, 2.0, 5)
    e_edges = np.linspace(-1, 1, 12)
    v = np.random.default_rng(1).random((5, 11))
    err = 0.1 * v
    da = make_sqe(q, e_edges, v, err, unit="1/meV")
    assert da.dims == ("Q", "E")
    assert da.coords["Q"].unit == sc.Unit("1/angstrom")
    assert da.coords.is_edges("E") and not da.coords.is_edges("Q")
    out = to_numpy(da)
    np.testing.assert_array_equal(out["values"], v)
    np.testing.assert_allclose(out["errors"], err)
    assert out["coords"]["E"][2] is True
    again = from_numpy(out["values"], {d: c[0] for d, c in out["coords"].items()}, out["errors"],
                       unit=out["unit"])
    assert sc.identical(again, da)


def test_spectrum_and_sq():
    s = make_spectrum([0.0, 1.0, 2.0], [1.0, 2.0, 3.0])
    assert s.dims == ("E",)
    sq = make_sq([1.0, 2.0], [0.5, 1.5], name="S(Q)")
    assert sq.coords["Q"].unit == sc.Unit("1/angstrom")
    assert validate(sq, ("Q",)) is sq


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(q=[1.0, 0.5], energy=[0.0, 1.0], values=np.ones((2, 2))), "Q"),
        (dict(q=[1.0, 2.0], energy=[0.0, 1.0, 2.0, 3.0], values=np.ones((2, 2))), "E"),
        (dict(q=[1.0, 2.0], energy=[0.0, 1.0], values=[[1.0, np.nan], [1.0, 1.0]]), "values"),
        (dict(q=[1.0, 2.0], energy=[0.0, 1.0], values=np.ones((2, 2)),
              errors=[[0.1, np.nan], [0.1, 0.1]]), "errors"),
        (dict(q=[1.0, 2.0], energy=[0.0, 1.0], values=np.ones((2, 2)), errors=np.ones((2, 3))), "errors"),
        (dict(q=[1.0, 2.0], energy=[0.0, 1.0], values=np.ones((2, 2)), unit="blargs"), "unit"),
    ],
)
def test_bad_input_names_field(kwargs, field):
    with pytest.raises(InputError, match=field):
        make_sqe(**kwargs)


def test_validate_rejects_wrong_dims_and_negative_variances():
    da = make_spectrum([0.0, 1.0], [1.0, 2.0], [0.1, 0.1])
    with pytest.raises(InputError, match="dims"):
        validate(da, ("Q", "E"))
    da.variances[0] = -1.0
    with pytest.raises(InputError, match="variances"):
        validate(da)
