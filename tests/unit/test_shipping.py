"""Shipped user functions keep their file name and source on the loading side."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

from gpfskit import shipping

MODULE = textwrap.dedent('''\
    def helper(x):
        return 1 / x


    def outer(scale):
        def inner(x):
            return helper(x) * scale
        return inner
''')

LOADER = textwrap.dedent('''\
    import sys, traceback
    from gpfskit import shipping
    fn = shipping.loads(open(sys.argv[1], "rb").read())
    try:
        fn(0)
    except ZeroDivisionError:
        traceback.print_exc()
''')


def _ship(tmp_path):
    path = tmp_path / "user_module.py"
    path.write_text(MODULE)
    spec = importlib.util.spec_from_file_location("user_module", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["user_module"] = module
    try:
        spec.loader.exec_module(module)
        payload = shipping.dumps(module.outer(3), by_value=[module])
    finally:
        del sys.modules["user_module"]
    return path, payload


def test_a_closure_and_the_global_it_calls_point_at_their_source_after_the_file_is_gone(
        tmp_path):
    path, payload = _ship(tmp_path)
    path.unlink()  # a node where the user's file does not exist
    (tmp_path / "payload.pkl").write_bytes(payload)
    result = subprocess.run([sys.executable, "-c", LOADER, str(tmp_path / "payload.pkl")],
                            capture_output=True, text=True, check=True, timeout=60)
    assert f'File "{path}", line 7, in inner' in result.stderr
    assert "return helper(x) * scale" in result.stderr
    assert f'File "{path}", line 2, in helper' in result.stderr
    assert "return 1 / x" in result.stderr
    assert "<dynamic-code>" not in result.stderr


def test_a_plain_pickle_still_loads(tmp_path):
    import pickle

    assert shipping.loads(pickle.dumps({"a": 1})) == {"a": 1}
