"""Owners never see or touch each other's voices, jobs or results."""

from __future__ import annotations

from support.api import (
    Api,
    assert_error,
    create_voice,
)


def test_owners_cannot_touch_each_others_voices_jobs_or_results(api: Api) -> None:
    voice = create_voice(api).json()
    job = api.client.post(
        "/v1/jobs", headers=api.alice, json={"text": "Only for Alice.", "voice": voice["id"]}
    ).json()
    api.wait_for_job(job["id"])
    sample, result = voice["samples"][0], job["result_blob"]

    bob = api.bob
    assert api.client.get("/v1/voices", headers=bob).json() == {"voices": []}
    names = [v["name"] for v in api.client.get("/v1/audio/voices", headers=bob).json()["voices"]]
    assert voice["name"] not in names
    for method, path in [
        ("GET", f"/v1/voices/{voice['id']}"),
        ("PATCH", f"/v1/voices/{voice['id']}"),
        ("DELETE", f"/v1/voices/{voice['id']}"),
        ("GET", f"/v1/voices/{voice['id']}/preview"),
        ("GET", f"/v1/jobs/{job['id']}"),
        ("GET", f"/v1/jobs/{job['id']}/audio"),
        ("DELETE", f"/v1/jobs/{job['id']}"),
    ]:
        kwargs = {"json": {"name": "mine now"}} if method == "PATCH" else {}
        assert_error(api.client.request(method, path, headers=bob, **kwargs), 404, "not_found")
    for ref in (voice["id"], voice["name"], sample):
        uses = [
            api.client.post("/v1/jobs", headers=bob, json={"text": "hi", "voice": ref}),
            api.client.post("/v1/speech", headers=bob, json={"text": "hi", "voice": ref}),
            api.client.post(
                "/v1/audio/speech",
                headers=bob,
                json={"model": "tts-1", "input": "hi", "voice": ref},
            ),
            api.client.post(
                "/synthesize", headers=bob, json={"text": "hi", "input_voice_gcs": ref}
            ),
        ]
        for response in uses:
            assert_error(response, 404, "not_found")

    file_name = result.rsplit("/", 1)[1]
    crafted = [
        result,
        sample,
        f"results/bob/../alice/{file_name}",
        f"../alice/{file_name}",
        f"results/bob/../../results/alice/{file_name}",
        f"/{result}",
        f"/results/bob/{file_name}",
        f"results/bob/%2e%2e/alice/{file_name}",
        "results%2Falice%2F" + file_name,
        "results%252Falice%252F" + file_name,
        f"results/bob/..%252Falice%252F{file_name}",
        f"results\\alice\\{file_name}",
        f"results/alice//{file_name}",
        "/etc/passwd",
        "results/bob/../../../../etc/passwd",
        "file:///etc/passwd",
    ]
    for blob in crafted:
        response = api.client.get("/results/stream", params={"blob": blob}, headers=bob)
        assert_error(response, 404, "not_found")
    # The owner's own key, disguised, is not accepted either: one canonical spelling only.
    for blob in (f"results/alice/../alice/{file_name}", f"/{result}", "results%252Falice"):
        response = api.client.get("/results/stream", params={"blob": blob}, headers=api.alice)
        assert_error(response, 404, "not_found")
    # ...while the plain key and its single URL-encoding work.
    for blob in (result, "results%2Falice%2F" + file_name):
        response = api.client.get("/results/stream", params={"blob": blob}, headers=api.alice)
        assert response.status_code == 200, blob
    raw = api.client.get(
        f"/results/stream?blob=results/bob/..%2F..%2Fresults/alice/{file_name}", headers=bob
    )
    assert_error(raw, 404, "not_found")

    # Alice's things are untouched.
    assert (
        api.client.get(f"/v1/voices/{voice['id']}", headers=api.alice).json()["name"] == "my voice"
    )
    assert (
        api.client.get(f"/v1/jobs/{job['id']}", headers=api.alice).json()["status"] == "succeeded"
    )
