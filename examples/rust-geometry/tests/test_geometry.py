"""The example extension, from Python: every kind of function, the types
with their fields, operators and special methods, a GC-tracked reference,
the custom exception, and panics."""
import gc
import math

import pytest


def test_module(geometry):
    assert geometry.__doc__ == "Plane geometry, written in Rust with hpy-core."
    assert geometry.VERSION == "0.1.0"
    assert geometry.ORIGIN == geometry.Point(0, 0)


def test_positional_function(geometry):
    assert geometry.distance(0, 0, 3, 4) == 5.0
    assert geometry.distance.__text_signature__ == "($module, x1, y1, x2, y2, /)"
    assert geometry.distance.__doc__ == "The distance between (x1, y1) and (x2, y2)."
    with pytest.raises(TypeError, match=r"distance\(\) takes 4 positional arguments but 3 were given"):
        geometry.distance(1, 2, 3)
    with pytest.raises(TypeError):
        geometry.distance(1, 2, 3, "4")
    with pytest.raises(TypeError):
        geometry.distance(x1=1, y1=2, x2=3, y2=4)


def test_varargs_and_custom_exception(geometry):
    assert geometry.centroid((0, 0), (2, 0), (2, 2), (0, 2)) == (1.0, 1.0)
    with pytest.raises(geometry.GeometryError, match="the centroid of no points"):
        geometry.centroid()
    assert issubclass(geometry.GeometryError, ValueError)
    assert geometry.GeometryError.__module__ == "geometry"
    assert geometry.GeometryError.__doc__ == "A geometric impossibility."
    with pytest.raises(ValueError, match="argument 'points': expected a tuple of length 2"):
        geometry.centroid((1, 2, 3))
    with pytest.raises(TypeError, match="argument 'points': expected tuple, got 'int'"):
        geometry.centroid(1)


def test_defaults_and_keyword_only(geometry):
    sq = geometry.regular_polygon(4)
    assert len(sq) == 4 and all(isinstance(p, geometry.Point) for p in sq)
    assert sq[0] == geometry.Point(1, 0)
    big = geometry.regular_polygon(4, 2.0, rotation=math.pi / 2)
    assert abs(big[0].x) < 1e-12 and big[0].y == 2.0
    with pytest.raises(TypeError):
        geometry.regular_polygon(4, 2.0, 0.5)  # rotation is keyword-only
    with pytest.raises(TypeError, match="unexpected keyword argument 'spin'"):
        geometry.regular_polygon(4, spin=1)
    with pytest.raises(TypeError, match="missing required positional argument: 'sides'"):
        geometry.regular_polygon()
    with pytest.raises(geometry.GeometryError):
        geometry.regular_polygon(2)
    with pytest.raises(OverflowError):
        geometry.regular_polygon(-1)
    assert geometry.regular_polygon.__text_signature__ == "($module, sides, radius=1.0, *, rotation=0.0)"


def test_kwargs(geometry):
    assert geometry.word_counts("a b a c") == {"a": 2, "b": 1, "c": 1}
    assert geometry.word_counts("a b a c", a=None, c=1) == {"b": 1}
    assert geometry.word_counts(text="x x") == {"x": 2}


def test_context_parameter(geometry):
    assert geometry.describe(None) == "nothing"
    assert geometry.describe(3) == "a int"


def test_panic_is_an_exception(geometry):
    with pytest.raises(SystemError, match="Rust panic: boom"):
        geometry.explode()
    # and the interpreter goes on
    assert geometry.distance(0, 0, 0, 1) == 1.0


def test_point_fields(geometry):
    p = geometry.Point(3, 4)
    assert (p.x, p.y) == (3.0, 4.0)
    p.x = 6
    assert p.x == 6.0
    with pytest.raises(TypeError):
        p.x = "a"
    with pytest.raises(TypeError, match="can't delete attribute 'x'"):
        del p.x
    assert geometry.Point() == geometry.Point(0, 0)
    assert geometry.Point(y=2) == geometry.Point(0, 2)


def test_point_getter_setter(geometry):
    p = geometry.Point(3, 4)
    assert p.norm == 5.0
    p.norm = 10
    assert (p.x, p.y) == (6.0, 8.0)
    with pytest.raises(geometry.GeometryError):
        geometry.Point().norm = 1


def test_point_methods(geometry):
    p = geometry.Point(1, 2)
    assert p.dot(geometry.Point(3, 4)) == 11.0
    assert p.moved(1, 1) == geometry.Point(2, 3)
    with pytest.raises(TypeError, match="argument 'other'"):
        p.dot(3)


def test_static_and_class_methods(geometry):
    assert geometry.Point.origin() == geometry.Point(0, 0)
    assert geometry.Point.from_tuple((1, 2)) == geometry.Point(1, 2)
    assert not hasattr(geometry, "Point.origin")


def test_point_operators(geometry):
    P = geometry.Point
    a, b = P(1, 2), P(3, 5)
    assert a + b == P(4, 7)
    assert b - a == P(2, 3)
    assert a * 2 == P(2, 4)
    assert 3 * a == P(3, 6)
    assert -a == P(-1, -2)
    assert abs(P(3, 4)) == 5.0
    assert bool(P(0, 0)) is False and bool(a) is True
    assert a != b and a == P(1, 2)
    assert (a == 1) is False
    with pytest.raises(TypeError):
        a + 1
    with pytest.raises(TypeError):
        a < b
    c = a
    c += b
    assert c is a and a == P(4, 7)
    assert repr(a) == "Point(4, 7)"


def test_polyline(geometry):
    P = geometry.Point
    line = geometry.Polyline((0, 0), (3, 4))
    assert len(line) == 2
    line.append(P(3, 8))
    assert len(line) == 3 and line.length() == 9.0
    assert line[0] == P(0, 0) and line[-1] == P(3, 8)
    with pytest.raises(IndexError):
        line[3]
    line[0] = P(0, 4)
    assert line[0] == P(0, 4)
    assert P(3, 4) in line and P(9, 9) not in line
    assert repr(line) == "Polyline(3 points)"


def test_node_references_and_gc(geometry):
    Node = geometry.Node
    a, b = Node(1), Node(2)
    a.link(b)
    assert a.next is b and b.next is None
    assert a.values() == [1, 2]
    with pytest.raises(TypeError):
        a.link(3)
    b.link(a)  # a cycle, through Fields only
    assert a.values()[:4] == [1, 2, 1, 2]
    a.link(None)
    assert a.next is None


def test_cycles_are_collected(geometry):
    import weakref
    Node = geometry.Node

    class Sub(Node):   # Node allows subclasses, which support weak references
        pass

    a, b = Sub(1), Sub(2)
    a.link(b)
    b.link(a)
    ref = weakref.ref(a)
    del a, b
    gc.collect()
    assert ref() is None


def test_not_instantiable_without_new(geometry):
    assert geometry.Point.__name__ == "Point"
    assert geometry.Point.__module__ == "geometry"


def test_many_calls_do_not_leak(geometry):
    p = geometry.Point(1, 1)
    for _ in range(10000):
        p = p + geometry.Point(0, 1)
        geometry.centroid((1, 2), (3, 4))
    assert p == geometry.Point(1, 10001)
