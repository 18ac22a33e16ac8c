"""plot_model / model_to_dot: every layer is a node and every connection an edge (checked by
layer name against the architecture written out by hand), labels, options, files."""

import shutil
import sys

import pytest

from cnnlab.keras.utils import model_to_dot, plot_model
from cnnlab.layers import Add, Conv2D, Dense, Flatten, Input, MaxPooling2D
from cnnlab.models import Model, Sequential

pydot = pytest.importorskip("pydot")


def named_graph(dot):
    """``{node id: first label line}`` and the edges as ``(name, name)`` pairs."""
    def walk(graph):
        nodes = {n.get_name(): n.get("label").strip('"').split("\\n")[0]
                 for n in graph.get_nodes() if n.get("label")}
        edges = [(e.get_source(), e.get_destination()) for e in graph.get_edges()]
        for sub in graph.get_subgraphs():
            inner_nodes, inner_edges = walk(sub)
            nodes.update(inner_nodes)
            edges += inner_edges
        return nodes, edges
    nodes, edges = walk(dot)
    return nodes, sorted((nodes[a].split(" ")[0], nodes[b].split(" ")[0]) for a, b in edges)


def test_sequential_draws_its_input_layer_every_layer_and_the_chain():
    model = Sequential([Input((8, 8, 1)), Conv2D(2, 3, name="c"), MaxPooling2D(name="p"),
                        Flatten(name="f"), Dense(3, name="d")])
    nodes, edges = named_graph(model_to_dot(model))
    assert sorted(nodes.values()) == sorted(["c_input (InputLayer)", "c (Conv2D)",
                                             "p (MaxPooling2D)", "f (Flatten)", "d (Dense)"])
    assert edges == sorted([("c_input", "c"), ("c", "p"), ("p", "f"), ("f", "d")])


def test_functional_graph_with_a_skip_connection_and_labels():
    inputs = Input((4,), name="x")
    h = Dense(4, activation="relu", name="h")(inputs)
    out = Dense(2, name="out")(Add(name="skip")([inputs, h]))
    model = Model(inputs, out)
    dot = model_to_dot(model, show_shapes=True, show_layer_activations=True,
                       show_trainable=True, rankdir="LR")
    nodes, edges = named_graph(dot)
    assert len(nodes) == 4
    assert edges == sorted([("x", "h"), ("x", "skip"), ("h", "skip"), ("skip", "out")])
    source = dot.to_string()
    assert "rankdir=LR" in source
    assert "h (Dense)\\nactivation: relu\\ninput: (None, 4)\\noutput: (None, 4)\\ntrainable: Y" \
        in source
    assert "skip (Add)\\ninput: [(None, 4), (None, 4)]" in source
    bare = model_to_dot(model, show_layer_names=False).to_string()
    assert "label=Dense" in bare and "h (Dense)" not in bare
    part = named_graph(model_to_dot(model, layer_range=["h", "skip"]))
    assert sorted(part[0].values()) == ["h (Dense)", "skip (Add)"]
    assert part[1] == [("h", "skip")]


def test_expand_nested_draws_the_inner_layers_in_a_cluster():
    inner = Sequential([Input((3,)), Dense(2, name="i1"), Dense(2, name="i2")], name="inner")
    inputs = Input((3,), name="x")
    model = Model(inputs, Dense(1, name="o")(inner(inputs)))
    assert named_graph(model_to_dot(model))[1] == sorted([("x", "inner"), ("inner", "o")])
    nodes, edges = named_graph(model_to_dot(model, expand_nested=True))
    assert edges == sorted([("x", "i1_input"), ("i1_input", "i1"), ("i1", "i2"), ("i2", "o")])
    assert "inner (Sequential)" not in nodes.values()


def test_plot_model_writes_files(tmp_path):
    model = Sequential([Input((4,)), Dense(2, name="d")])
    plot_model(model, to_file=tmp_path / "m.dot")
    assert "d (Dense)" in (tmp_path / "m.dot").read_text()
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed (make browser installs it)")
    plot_model(model, to_file=str(tmp_path / "m.png"), show_shapes=True)
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot_model(model, to_file=str(tmp_path / "m.svg"))
    assert "d (Dense)" in (tmp_path / "m.svg").read_text()


def test_clear_errors(monkeypatch):
    class Custom(Model):
        def call(self, inputs, training=False):
            return inputs

    with pytest.raises(ValueError, match="subclassed model"):
        model_to_dot(Custom())
    with pytest.raises(ValueError, match="no layer name matches 'nope'"):
        model_to_dot(Sequential([Input((4,)), Dense(2)]), layer_range=["nope", "dense"])
    monkeypatch.setitem(sys.modules, "pydot", None)  # as if pydot were not installed
    with pytest.raises(ImportError, match=r"pip install pydot .*\(apt-get install graphviz"):
        plot_model(Sequential([Input((4,)), Dense(2)]))
