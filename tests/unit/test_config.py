import os
import stat

import pytest

from gpfskit.config import DIRECTIVES, ConfigError, config, config_dir


def test_default_when_unset():
    assert config["arcapix.auth.server.url"] == "http://127.0.0.1:5101"  # this service
    assert "arcapix.auth.server.url" in config


def test_write_read_one_file_per_directive(_isolated_config):
    config["arcapix.auth.server.url"] = "https://mgmt.example:8443"
    path = _isolated_config / "arcapix" / "auth" / "server" / "url"
    assert path.read_text() == '"https://mgmt.example:8443"\n'
    assert config["arcapix.auth.server.url"] == "https://mgmt.example:8443"
    assert config.get("arcapix.auth.server.url") == "https://mgmt.example:8443"


def test_arcapix_import_path():
    from arcapix.config import config as compat

    compat["arcapix.management.filesets.exclude"] = ["scratch"]
    assert config["arcapix.management.filesets.exclude"] == ["scratch"]


def test_env_var_moves_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("GPFSKIT_CONFIG")
    monkeypatch.setenv("ARCAPIX_CONFIG", str(tmp_path / "other"))
    assert config_dir() == tmp_path / "other"
    config["some.tool.value"] = 3
    assert (tmp_path / "other" / "some" / "tool" / "value").read_text() == "3\n"


def test_unknown_directive_is_keyerror():
    with pytest.raises(KeyError):
        config["no.such.directive"]
    assert "no.such.directive" not in config
    assert config.get("no.such.directive", 5) == 5


def test_invalid_json_names_file_and_problem(_isolated_config):
    path = _isolated_config / "gpfskit" / "emulator" / "root"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(ConfigError) as info:
        config["gpfskit.emulator.root"]
    assert str(path) in str(info.value) and "invalid JSON" in str(info.value)


def test_type_checked_and_nothing_written(_isolated_config):
    with pytest.raises(ConfigError, match="takes a string"):
        config["arcapix.auth.server.url"] = 42
    assert not (_isolated_config / "arcapix").exists()


@pytest.mark.parametrize("name", ["../etc/passwd", "a", "a..b", "a.b/c", "a. b", ""])
def test_bad_names_refused(name):
    with pytest.raises(ConfigError, match="invalid directive name"):
        config[name] = "x"


def test_atomic_write_leaves_no_temp_files(_isolated_config):
    for i in range(5):
        config["gpfskit.commands.timeout"] = float(i + 1)
    files = os.listdir(_isolated_config / "gpfskit" / "commands")
    assert files == ["timeout"]
    mode = os.stat(_isolated_config / "gpfskit" / "commands" / "timeout").st_mode
    assert stat.S_ISREG(mode)


def test_every_directive_documented_and_typed():
    for directive in DIRECTIVES.values():
        assert directive.description
        value = config[directive.name]
        assert isinstance(value, directive.type), directive.name


def test_iteration_lists_known_and_stored():
    config["custom.directive"] = True
    names = list(config)
    assert "custom.directive" in names and "gpfskit.emulator.root" in names
    assert len(config) == len(names)
    del config["custom.directive"]
    assert "custom.directive" not in config


def test_choices_and_ranges_checked_when_set_and_when_read(_isolated_config):
    with pytest.raises(ConfigError, match="must be one of 'scale', 'emulated'"):
        config["gpfskit.cluster.backend"] = "bogus"
    with pytest.raises(ConfigError, match="greater than 0"):
        config["gpfskit.commands.timeout"] = -5
    assert not (_isolated_config / "gpfskit" / "commands" / "timeout").exists()
    stored = _isolated_config / "gpfskit" / "commands" / "timeout"
    stored.parent.mkdir(parents=True)
    stored.write_text("-5\n")
    with pytest.raises(ConfigError, match=f"{stored}: .*greater than 0, not -5"):
        config["gpfskit.commands.timeout"]
