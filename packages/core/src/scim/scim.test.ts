import { describe, expect, it } from "vitest";
import { ScimError } from "./errors";
import { type ScimFilter, flattenValuePaths, matchesScimFilter, parseScimFilter } from "./filter";
import { applyScimPatch } from "./patch";
import { scimUserToFields } from "./user-mapping";
import { scimPaging } from "./discovery";

const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

function scimErrorOf(run: () => unknown): { status: number; scimType?: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof ScimError) return { status: error.status, ...(error.scimType ? { scimType: error.scimType } : {}) };
    throw error;
  }
  throw new Error("expected a ScimError");
}

describe("parseScimFilter", () => {
  it.each<[string, ScimFilter]>([
    ['userName eq "bjensen@example.com"', { op: "eq", attr: "username", value: "bjensen@example.com" }],
    ['USERNAME EQ "a"', { op: "eq", attr: "username", value: "a" }],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"', { op: "sw", attr: "username", value: "J" }],
    [`${ENT}:employeeNumber eq "701984"`, { op: "eq", attr: `${ENT.toLowerCase()}:employeenumber`, value: "701984" }],
    ["active eq true", { op: "eq", attr: "active", value: true }],
    ["title pr", { op: "pr", attr: "title" }],
    ['emails.value co "@example.com"', { op: "co", attr: "emails.value", value: "@example.com" }],
    ['externalId eq "a \\"quoted\\" id"', { op: "eq", attr: "externalid", value: 'a "quoted" id' }],
    [
      'userName eq "a" and active eq false',
      { op: "and", left: { op: "eq", attr: "username", value: "a" }, right: { op: "eq", attr: "active", value: false } },
    ],
    [
      "a eq 1 or b eq 2 and c eq 3",
      {
        op: "or",
        left: { op: "eq", attr: "a", value: 1 },
        right: { op: "and", left: { op: "eq", attr: "b", value: 2 }, right: { op: "eq", attr: "c", value: 3 } },
      },
    ],
    [
      "(a eq 1 or b eq 2) and not (c eq null)",
      {
        op: "and",
        left: { op: "or", left: { op: "eq", attr: "a", value: 1 }, right: { op: "eq", attr: "b", value: 2 } },
        right: { op: "not", filter: { op: "eq", attr: "c", value: null } },
      },
    ],
    [
      'emails[type eq "work" and value co "@x.com"]',
      {
        op: "valuePath",
        attr: "emails",
        filter: { op: "and", left: { op: "eq", attr: "type", value: "work" }, right: { op: "co", attr: "value", value: "@x.com" } },
      },
    ],
  ])("%s", (input, expected) => {
    expect(parseScimFilter(input)).toEqual(expected);
  });

  it.each(["userName eq", 'userName like "a"', 'userName eq "a" and', '(userName eq "a"', 'userName eq "open', "", "eq eq eq"])(
    "refuses %j with 400 invalidFilter",
    (input) => {
      expect(scimErrorOf(() => parseScimFilter(input))).toEqual({ status: 400, scimType: "invalidFilter" });
    },
  );

  it("flattens value paths into dotted attributes", () => {
    expect(flattenValuePaths(parseScimFilter('emails[value eq "a@x.com"]'))).toEqual({ op: "eq", attr: "emails.value", value: "a@x.com" });
  });
});

describe("matchesScimFilter", () => {
  const user = {
    userName: "Bjensen@Example.com",
    id: "mem_ABC",
    active: true,
    emails: [
      { value: "b@work.example", type: "work", primary: true },
      { value: "b@home.example", type: "home" },
    ],
    [ENT]: { department: "Sales" },
  };
  it.each<[string, boolean]>([
    ['userName eq "bjensen@example.com"', true],
    ['userName sw "BJEN"', true],
    ['userName ew "example.com"', true],
    ['emails.value co "home"', true],
    ['emails[type eq "work"].value eq "b@work.example"', false], // not a filter form: valuePath.sub is PATCH-only
    ['emails[type eq "home" and value co "home"]', true],
    ['emails[type eq "home" and value co "work"]', false],
    ['id eq "mem_abc"', false], // id is caseExact
    ["active eq true and not (title pr)", true],
    [`${ENT}:department eq "sales"`, true],
    ['userName ne "x"', true],
  ])("%s → %s", (filter, expected) => {
    let parsed: ScimFilter;
    try {
      parsed = parseScimFilter(filter);
    } catch {
      expect(expected).toBe(false);
      return;
    }
    expect(matchesScimFilter(user, parsed)).toBe(expected);
  });
});

describe("applyScimPatch", () => {
  const base = () => ({
    userName: "a@x.com",
    displayName: "Ann",
    active: true,
    name: { givenName: "Ann", familyName: "Lee" },
    emails: [{ value: "a@x.com", type: "work", primary: true }],
  });
  const patch = (...Operations: unknown[]) => ({ schemas: [PATCH], Operations });

  it("replaces a single attribute by path, in any letter case (Entra's Replace)", () => {
    expect(applyScimPatch(base(), patch({ op: "Replace", path: "displayName", value: "Ann B" })).displayName).toBe("Ann B");
    expect(applyScimPatch(base(), patch({ op: "replace", path: "ACTIVE", value: false })).active).toBe(false);
  });

  it("takes the no-path form: attribute names, dotted paths and extension objects", () => {
    const result = applyScimPatch(
      base(),
      patch({ op: "replace", value: { active: false, "name.familyName": "Smith", [ENT]: { department: "Ops" } } }),
    );
    expect(result).toMatchObject({ active: false, name: { givenName: "Ann", familyName: "Smith" }, [ENT]: { department: "Ops" } });
  });

  it("treats add on a single-valued attribute as replace (interop profile), and sets a bare-id manager", () => {
    const result = applyScimPatch(
      base(),
      patch({ op: "Add", path: "displayName", value: "X" }, { op: "Add", path: `${ENT}:manager`, value: "mem_1" }),
    );
    expect(result.displayName).toBe("X");
    expect(result[ENT]).toEqual({ manager: "mem_1" });
  });

  it("merges a complex attribute's sub-attributes on replace", () => {
    expect(applyScimPatch(base(), patch({ op: "replace", path: "name", value: { familyName: "Roe" } })).name).toEqual({
      givenName: "Ann",
      familyName: "Roe",
    });
  });

  it("updates a filtered element's sub-attribute, and creates it when no element matches", () => {
    const updated = applyScimPatch(base(), patch({ op: "replace", path: 'emails[type eq "work"].value', value: "new@x.com" }));
    expect(updated.emails).toEqual([{ value: "new@x.com", type: "work", primary: true }]);
    const created = applyScimPatch({ userName: "u" }, patch({ op: "add", path: 'emails[type eq "work"].value', value: "w@x.com" }));
    expect(created.emails).toEqual([{ type: "work", value: "w@x.com" }]);
  });

  it("adds to and removes from a multi-valued attribute (group members)", () => {
    const group = { displayName: "Sales", members: [{ value: "m1" }, { value: "m2" }] };
    const added = applyScimPatch(group, patch({ op: "add", path: "members", value: [{ value: "m2" }, { value: "m3" }] }));
    expect(added.members).toEqual([{ value: "m1" }, { value: "m2" }, { value: "m3" }]);
    const byFilter = applyScimPatch(added, patch({ op: "remove", path: 'members[value eq "m1"]' }));
    expect(byFilter.members).toEqual([{ value: "m2" }, { value: "m3" }]);
    const byValue = applyScimPatch(added, patch({ op: "Remove", path: "members", value: [{ value: "m3" }] }));
    expect(byValue.members).toEqual([{ value: "m1" }, { value: "m2" }]);
    expect(applyScimPatch(added, patch({ op: "remove", path: "members" })).members).toBeUndefined();
  });

  it("removes an extension attribute", () => {
    const withManager = { ...base(), [ENT]: { manager: { value: "m" }, department: "D" } };
    expect(applyScimPatch(withManager, patch({ op: "remove", path: `${ENT}:manager` }))[ENT]).toEqual({ department: "D" });
  });

  it("leaves the input untouched", () => {
    const input = base();
    applyScimPatch(input, patch({ op: "replace", path: "displayName", value: "Z" }));
    expect(input.displayName).toBe("Ann");
  });

  it.each<[string, unknown, string]>([
    ["no PatchOp schema", { Operations: [{ op: "replace", path: "a", value: 1 }] }, "invalidSyntax"],
    ["no operations", { schemas: [PATCH], Operations: [] }, "invalidSyntax"],
    ["an unknown op", { schemas: [PATCH], Operations: [{ op: "move", path: "a", value: 1 }] }, "invalidSyntax"],
    ["remove without a path", { schemas: [PATCH], Operations: [{ op: "remove" }] }, "noTarget"],
    ["no-path with a non-object value", { schemas: [PATCH], Operations: [{ op: "replace", value: 3 }] }, "invalidValue"],
    ["a bad path", { schemas: [PATCH], Operations: [{ op: "replace", path: "emails[type eq", value: 1 }] }, "invalidPath"],
    [
      "a filter matching nothing it can create",
      { schemas: [PATCH], Operations: [{ op: "replace", path: 'emails[value co "z"].type', value: "x" }] },
      "noTarget",
    ],
  ])("refuses %s (400 %s)", (_name, body, scimType) => {
    expect(scimErrorOf(() => applyScimPatch(base(), body))).toEqual({ status: 400, scimType });
  });
});

describe("scimUserToFields", () => {
  it("maps an Okta user: externalRef from userName when there is no externalId, name from given + family", () => {
    expect(
      scimUserToFields(
        {
          userName: "ann@x.com",
          name: { givenName: "Ann", familyName: "Lee" },
          emails: [{ value: "ann@x.com", primary: true }],
          active: true,
        },
        "externalId",
      ),
    ).toEqual({
      userName: "ann@x.com",
      externalId: null,
      externalRef: "ann@x.com",
      name: "Ann Lee",
      email: "ann@x.com",
      active: true,
      department: null,
      managerValue: null,
    });
  });

  it('maps an Entra user: externalId or employeeNumber by the tenant\'s setting, the manager as a bare id or {value}, "False"', () => {
    const user = {
      userName: "bob@x.com",
      externalId: "e-77",
      displayName: "Bob Roe",
      active: "False",
      [ENT]: { employeeNumber: "EMP-9", department: "Ops", manager: "mem_1" },
    };
    expect(scimUserToFields(user, "externalId")).toMatchObject({
      externalRef: "e-77",
      active: false,
      department: "Ops",
      managerValue: "mem_1",
    });
    expect(scimUserToFields({ ...user, [ENT]: { employeeNumber: "EMP-9", manager: { value: "mem_2" } } }, "employeeNumber")).toMatchObject({
      externalRef: "EMP-9",
      managerValue: "mem_2",
    });
  });

  it.each<[string, unknown]>([
    ["no userName", { displayName: "x" }],
    ["a non-boolean active", { userName: "u", active: "maybe" }],
    ["a bad e-mail", { userName: "u", emails: [{ value: "not-mail" }] }],
  ])("refuses %s (400 invalidValue)", (_name, resource) => {
    expect(scimErrorOf(() => scimUserToFields(resource, "externalId"))).toEqual({ status: 400, scimType: "invalidValue" });
  });
});

describe("scimPaging", () => {
  it.each<[string | null, string | null, { startIndex: number; count: number }]>([
    [null, null, { startIndex: 1, count: 100 }],
    ["1", "2", { startIndex: 1, count: 2 }],
    ["0", "-5", { startIndex: 1, count: 0 }],
    ["7", "100000", { startIndex: 7, count: 200 }],
  ])("startIndex=%s count=%s", (start, count, expected) => {
    expect(scimPaging(start, count)).toEqual(expected);
  });
});
