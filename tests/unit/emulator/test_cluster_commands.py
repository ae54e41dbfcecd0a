from gpfskit.commands import yformat


def test_mmlscluster_y_has_summary_and_nodes(mm):
    result = mm("mmlscluster", "-Y")
    assert result.returncode == 0
    tables = yformat.parse(result.stdout)
    summary = tables[("mmlscluster", "clusterSummary")][0]
    assert summary["clusterName"] == "democluster"
    assert summary["repositoryType"] == "CCR"
    nodes = tables[("mmlscluster", "clusterNode")]
    assert [n["daemonNodeName"] for n in nodes] == ["node1", "node2", "node3"]
    assert nodes[0]["designation"] == "quorumManager"


def test_mmlscluster_human(mm):
    out = mm("mmlscluster").stdout
    assert "GPFS cluster name:         democluster" in out
    assert "quorum-manager" in out


def test_mmgetstate_all(mm):
    rows = yformat.parse_table(mm("mmgetstate", "-a", "-Y").stdout)
    assert [(r["nodeName"], r["state"]) for r in rows] == [
        ("node1", "active"), ("node2", "active"), ("node3", "active")]
    assert "GPFS state" in mm("mmgetstate", "-aL").stdout
    # As in real output, the placeholder is not percent-encoded.
    assert ":quorum node:(undefined):node1:" in mm("mmgetstate", "-Y").stdout


def test_usage_error(mm):
    result = mm("mmgetstate", "-Z")
    assert result.returncode == 1
    assert "Incorrect option: -Z" in result.stderr and "Usage:" in result.stderr


def test_unknown_node(mm):
    result = mm("mmgetstate", "-N", "nosuch")
    assert result.returncode == 22
    assert "Command failed" in result.stderr


def test_mmlsmgr(mm):
    tables = yformat.parse(mm("mmlsmgr", "-Y").stdout)
    assert tables[("mmlsmgr", "clusterManager")] == [{"manager": "node1"}]
    managers = tables[("mmlsmgr", "filesystemManager")]
    assert [(r["filesystem"], r["manager"], r["managerIP"]) for r in managers] == [
        ("mmfs1", "node1", "192.0.2.1"), ("mmfs2", "node1", "192.0.2.1")]
    text = mm("mmlsmgr").stdout
    assert "mmfs1            192.0.2.1 (node1)" in text
    assert "Cluster manager node: 192.0.2.1 (node1)" in text
    assert mm("mmlsmgr", "nosuch").returncode == 2
