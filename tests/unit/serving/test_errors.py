import orjson

from serving.errors import BadRequest, NotFound, Unavailable, error_response, validation_message


def test_validation_message_names_each_parameter():
    errors = [
        {"loc": ("query", "limit"), "msg": "Input should be less than or equal to 500"},
        {"loc": ("path", "model_id"), "msg": "Field required"},
        {"loc": ("body",), "msg": "Invalid JSON"},
    ]
    assert validation_message(errors) == (
        "query parameter 'limit': Input should be less than or equal to 500; "
        "path parameter 'model_id': Field required; request: Invalid JSON"
    )


def test_each_failure_kind_carries_its_status():
    assert (NotFound.status_code, BadRequest.status_code, Unavailable.status_code) == (
        404,
        400,
        503,
    )
    assert Unavailable("down").headers == {"Retry-After": "5"}


def test_error_body_shape():
    response = error_response(404, "not_found", "no such model", {"model_id": "a/b"})
    assert response.status_code == 404
    assert orjson.loads(response.body) == {
        "error": {"code": "not_found", "message": "no such model", "detail": {"model_id": "a/b"}}
    }
