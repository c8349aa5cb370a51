"""Lazy package names (latdyn.lazy): the public names stay importable, and the command line
starts without the heavy libraries.  Which modules load is checked, not how long it takes
(timings are measured by benchmarks/startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from latdyn.lazy import lazy_exports

HEAVY = ("numpy", "scipy", "scipp", "matplotlib", "h5py", "phonopy")


def _loaded_after(code: str) -> list[str]:
    """Heavy libraries in sys.modules after running ``code`` in a fresh interpreter."""
    probe = (f"import sys\n{code}\nimport json\n"
             f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["--help"], ["xs", "--help"], ["phonons", "--help"],
                                  ["md", "--help"], ["qens", "--help"], ["simulate", "--help"]])
def test_help_loads_no_heavy_library(args):
    code = ("from latdyn.cli.main import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit:\n    pass")
    assert _loaded_after(code) == []


def test_building_every_parser_loads_no_heavy_library():
    assert _loaded_after("from latdyn.cli.main import build_parser\nbuild_parser()") == []


def test_xs_loads_no_plotting_or_files_library():
    loaded = _loaded_after("from latdyn.cli.main import main\nmain(['xs', 'Li3N', '--json'])")
    assert "numpy" in loaded
    assert not {"matplotlib", "scipp", "h5py", "phonopy"} & set(loaded)


def test_report_text_does_not_load_matplotlib():
    assert "matplotlib" not in _loaded_after("import latdyn.report.text")


@pytest.mark.parametrize("package", ["latdyn.report", "latdyn.scattering"])
def test_lazy_package_keeps_every_public_name(package):
    import importlib

    mod = importlib.import_module(package)
    assert mod.__all__, package
    for name in mod.__all__:
        value = getattr(mod, name)
        assert value is getattr(mod, name)
        assert name in dir(mod)
    with pytest.raises(AttributeError, match="no_such_name"):
        mod.no_such_name  # noqa: B018


def test_from_import_of_lazy_names():
    from latdyn.report import Report, save_figure
    from latdyn.scattering import TABLES, Composition

    assert TABLES == ("sears", "rauch")
    assert Composition("Li3N").n_atoms == 4
    assert callable(save_figure) and Report.__name__ == "Report"


def test_a_function_named_like_its_submodule_stays_the_function():
    """``latdyn.scattering.magnetic_form_factor`` is the function even after its submodule of
    the same name has been imported (as with the eager ``from .x import x``)."""
    code = ("import latdyn.scattering.magnetic_form_factor\n"
            "from latdyn.scattering import magnetic_form_factor\n"
            "assert callable(magnetic_form_factor), magnetic_form_factor\n"
            "assert magnetic_form_factor('Fe2+', 0.0) > 0.99")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lazy_exports_refuses_a_name_exported_twice():
    with pytest.raises(ValueError, match="'x' is exported by both a and b"):
        lazy_exports("latdyn", {"a": ("x",), "b": ("x",)})


def test_version_is_printed_on_request(capsys):
    from latdyn import __version__
    from latdyn.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"latdyn {__version__}"
