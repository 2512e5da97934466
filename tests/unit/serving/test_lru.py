from serving.lru import BytesLRU


def test_evicts_the_least_recently_used_by_count():
    lru = BytesLRU(max_items=2)
    lru.put(("v", "a"), b"1")
    lru.put(("v", "b"), b"2")
    assert lru.get(("v", "a")) == b"1"  # a is now the most recent
    lru.put(("v", "c"), b"3")
    assert lru.get(("v", "b")) is None
    assert lru.get(("v", "a")) == b"1"
    assert len(lru) == 2


def test_bounded_by_bytes():
    lru = BytesLRU(max_items=100, max_bytes=10)
    lru.put(("v", "a"), b"12345")
    lru.put(("v", "b"), b"12345")
    lru.put(("v", "c"), b"123")
    assert lru.get(("v", "a")) is None
    assert lru.size_bytes == 8


def test_too_big_is_not_kept_and_evicts_nothing():
    lru = BytesLRU(max_bytes=4)
    lru.put(("v", "a"), b"1")
    lru.put(("v", "big"), b"12345")
    assert lru.get(("v", "big")) is None
    assert lru.get(("v", "a")) == b"1"


def test_replacing_keeps_the_byte_count_right_and_versions_apart():
    lru = BytesLRU()
    lru.put(("v1", "k"), b"123")
    lru.put(("v1", "k"), b"1")
    lru.put(("v2", "k"), b"22")
    assert (lru.size_bytes, lru.get(("v1", "k")), lru.get(("v2", "k"))) == (3, b"1", b"22")
    lru.clear()
    assert (len(lru), lru.size_bytes) == (0, 0)
