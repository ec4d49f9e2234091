import { describe, expect, it } from "vitest";
import { CsvError, csvLine, parseCsv } from "./csv";

describe("parseCsv", () => {
  it.each<[string, string, string[][]]>([
    [
      "LF, CRLF and CR mixed",
      "a,b\nc,d\r\ne,f\rg,h",
      [
        ["a", "b"],
        ["c", "d"],
        ["e", "f"],
        ["g", "h"],
      ],
    ],
    [
      "quotes, doubled quotes, commas and newlines inside",
      'a,"b ""q"", c"\n"x\ny",z\n',
      [
        ["a", 'b "q", c'],
        ["x\ny", "z"],
      ],
    ],
    [
      "a spreadsheet's BOM",
      "\uFEFFexternalRef,name\nE1,N\n",
      [
        ["externalRef", "name"],
        ["E1", "N"],
      ],
    ],
    [
      "blank and space-only lines carry no row",
      "a,b\n\n   \nc,d\n\n",
      [
        ["a", "b"],
        ["c", "d"],
      ],
    ],
    ["ragged rows", "a,b,c\nd\n", [["a", "b", "c"], ["d"]]],
    ["a quote inside an unquoted cell is a character", 'O"Brien,x\n', [['O"Brien', "x"]]],
  ])("%s", (_name, text, rows) => {
    expect(parseCsv(text)).toEqual(rows);
  });

  it("refuses a quote that never closes, naming the line", () => {
    expect(() => parseCsv('a,b\nc,"d\ne,f\n')).toThrow(CsvError);
  });

  it("reads back what the export writes, formulas neutralised", () => {
    const cells = ["EMP-1", 'Liam "Li" O\'Brien, Jr.', "=HYPERLINK(1)", "line\nbreak", null, true];
    expect(parseCsv(csvLine(cells))).toEqual([["EMP-1", 'Liam "Li" O\'Brien, Jr.', "'=HYPERLINK(1)", "line\nbreak", "", "true"]]);
  });
});
