import { describe, expect, test } from "@jest/globals";
import { ApiError, SessionError, UsageError } from "../core/index.js";
import { formProblem } from "./form-errors.js";

describe("formProblem", () => {
  test("the server's field names become the form's field and words", () => {
    expect(formProblem(new ApiError("not-found", "invite_token: unknown invite"))).toEqual({
      field: "invite",
      message: "the server does not know this invite token: check it was copied whole",
    });
    expect(formProblem(new ApiError("failed-precondition", "invite_token: invite already used"))).toEqual({
      field: "invite",
      message: "this invite was already used: ask an admin for a new one",
    });
    expect(formProblem(new ApiError("already-exists", "username: already taken"))).toEqual({
      field: "username",
      message: "this username is taken: choose another",
    });
    expect(formProblem(new ApiError("invalid-argument", "password: must be 8-256 characters"))).toEqual({
      field: "password",
      message: "password: must be 8-256 characters",
    });
  });

  test("a field the form does not have loses its API name; other errors keep their words", () => {
    expect(formProblem(new ApiError("permission-denied", "device_public_key: this device was revoked"))).toEqual({
      message: "this device was revoked",
    });
    expect(formProblem(new ApiError("unavailable", "cannot reach the server"))).toEqual({ message: "cannot reach the server" });
    expect(formProblem(new ApiError("unauthenticated", "wrong username or password"))).toEqual({
      field: "password",
      message: "wrong username or password",
    });
  });

  test("the invite's own problems point at the invite field, without the CLI's flag name", () => {
    expect(formProblem(new UsageError("invalid-input", "--invite: the invite code is empty"))).toEqual({
      field: "invite",
      message: "the invite code is empty",
    });
    const p = formProblem(new SessionError("wrong-community", "this server's community root x is not the one the invite names"));
    expect(p.field).toBe("invite");
  });
});
