from gfx.hetero_demo import run_hetero_demo


def test_hetero_demo_trains_and_reports_accuracy_per_node_type(capsys):
    result = run_hetero_demo(epochs=10)
    printed = capsys.readouterr().out
    assert set(result) == {"paper", "author"}
    for node_type, acc in result.items():
        assert acc["test"] > 0.8, (node_type, acc)
        assert f"{node_type}: train" in printed
    assert "outputs equal: True" in printed
