"""Generated method names never collide with `PirsonalClient`'s hand-written members."""

from __future__ import annotations

import warnings

import pytest

from pirsonal_async import PirsonalClient
from pirsonal_async.generated import SezionAPI
from pirsonal_async_codegen import naming
from pirsonal_async_codegen.generate import views
from pirsonal_async_codegen.model import Contract, Function, Interface


def public(names: object) -> set[str]:
    return {name for name in dir(names) if not name.startswith("_")}


async def test_every_public_member_of_the_client_is_reserved_for_the_generator() -> None:
    async with PirsonalClient("acc", "secret") as client:
        hand_written = public(client) - set(vars(SezionAPI))
    scoped = PirsonalClient.for_template("acc", "tpl", "tpl-secret")
    hand_written |= public(scoped) - set(vars(SezionAPI))
    await scoped.aclose()
    assert hand_written, "the client has no members of its own?"
    # A member added to the client must be added to naming.CLIENT_NAMES too.
    assert hand_written - naming.CLIENT_NAMES == set()


@pytest.mark.parametrize(
    ("function", "python"),
    [
        ("Batch", "batch_"),
        ("Upload_Media", "upload_media_"),
        ("With_Options", "with_options_"),
        ("Wait_For_Video", "wait_for_video_"),
        ("aclose", "aclose_"),
        ("Rpc", "rpc_"),
    ],
)
def test_a_function_named_like_a_client_member_is_renamed_with_a_warning(
    function: str, python: str
) -> None:
    contract = Contract(
        elements=(Interface(name="SezionAPI", functions=(Function(name=function),)),)
    )
    with pytest.warns(UserWarning, match="member of PirsonalClient") as caught:
        [interface] = views(contract).interfaces
    [method] = interface.methods
    assert method.name == python
    assert method.wire == f"SezionAPI.{function}"
    assert [str(w.message) for w in caught] == [
        f"SezionAPI.{function}: generated as `{python}`, since `{python[:-1]}` is a member of "
        "PirsonalClient, which subclasses the stubs"
    ]


def test_other_function_names_are_left_alone_without_warnings() -> None:
    contract = Contract(elements=(Interface(name="A", functions=(Function(name="Video_Get"),)),))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        [interface] = views(contract).interfaces
    assert [m.name for m in interface.methods] == ["video_get"]
