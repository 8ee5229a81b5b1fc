"""Writes the ingest test corpus (run once; the files are committed). All rows are SYNTHETIC:
invented ids, actors and notes shaped like ACLED / UCDP exports, describing no real event."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
ACLED_HEADER = ("event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,"
                "assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,"
                "admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,"
                "tags,timestamp")


def acled_row(i, date, etype="Battles", sub="Armed clash", actor1="Synthetic Police Unit", lat="42.96", lon="20.78",
              fat="0", notes="Synthetic note.", admin2="Zvečan", location="Banjskë", eid=None):
    eid = f"SYNX{i}" if eid is None else eid
    notes = notes.replace('"', '""')
    return (f'{eid},{date},2023,1,Political violence,{etype},{sub},{actor1},"Synthetic Group A; Synthetic Group B",'
            f'State forces,Synthetic Armed Group,,Political militia,State forces-Political militia,,0,Europe,Kosovo,'
            f'Mitrovica,{admin2},,{location},{lat},{lon},1,"Synthetic Source; Other Synthetic Source",National,'
            f'"{notes}",{fat},,1700000000')


def write(name, text, encoding="utf-8", bom=False):
    data = text.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    (HERE / name).write_bytes(data)


# 1. Current ACLED generation: BOM, "24 September 2023" dates, multi-line quoted notes, ";" lists.
rows = [
    acled_row(1, "24 September 2023", notes="Synthetic: shots fired\nnear the bridge;\nno injuries."),  # lines 2-4
    acled_row(2, "2023-09-25", actor1="Synthetic Protesters (Kosovo)", etype="Protests", sub="Peaceful protest",
              notes='Synthetic "quoted" words, ë ç č ć š ž đ.'),                                           # line 5
    acled_row(3, "26 September 2023", etype="Parades", sub="Armed clash"),                                # line 6: unknown type
    acled_row(4, "27 September 2023", fat="2"),                                                           # line 7
]
write("acled_current_bom.csv", ACLED_HEADER + "\r\n" + "\r\n".join(rows) + "\r\n", bom=True)

# 2. Pre-March-2023 ACLED: event_id_no_cnty, data_id, iso3; no disorder_type/civilian_targeting/tags;
#    inter codes and interaction as numbers; Excel-mangled dates.
legacy_header = ("data_id,iso,event_id_cnty,event_id_no_cnty,event_date,year,time_precision,event_type,sub_event_type,"
                 "actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,region,country,admin1,admin2,"
                 "admin3,location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,timestamp,iso3")
legacy = [
    "901,0,SYNL1,1,24-Sep-22,2022,1,Battles,Armed clash,Synthetic Police Unit,,1,Synthetic Armed Group,,3,13,Europe,Kosovo,Mitrovica,Zubin Potok,,Synthetic village,42.91,20.69,1,Synthetic Source,National,Synthetic legacy row.,1,1660000000,XKX",
    "902,0,SYNL2,2,25-Sep-22,2022,1,Violence against civilians,Attack,Synthetic Armed Group,,3,Civilians (Kosovo),,7,37,Europe,Kosovo,Mitrovica,Leposaviq,,Synthetic village,43.10,20.80,1,Synthetic Source,National,Synthetic legacy row.,0,1660000000,XKX",
    "903,0,SYNL3,3,26-Sep-22,2022,1,Riots,Mob violence,Synthetic Rioters,,5,,,0,50,Europe,Kosovo,Mitrovica,North Mitrovica,,Synthetic town,42.89,20.87,1,Synthetic Source,National,Synthetic legacy row.,-3,1660000000,XKX",
]
write("acled_legacy.csv", legacy_header + "\n" + "\n".join(legacy) + "\n")

# 3/4. UCDP GED with and without header (49 columns).
UCDP = ("id,relid,year,active_year,code_status,type_of_violence,conflict_dset_id,conflict_new_id,conflict_name,"
        "dyad_dset_id,dyad_new_id,dyad_name,side_a_dset_id,side_a_new_id,side_a,side_b_dset_id,side_b_new_id,side_b,"
        "number_of_sources,source_article,source_office,source_date,source_headline,source_original,where_prec,"
        "where_coordinates,where_description,adm_1,adm_2,latitude,longitude,geom_wkt,priogrid_gid,country,country_id,"
        "region,event_clarity,date_prec,date_start,date_end,deaths_a,deaths_b,deaths_civilians,deaths_unknown,best,"
        "high,low,gwnoa,gwnob")


def ucdp_row(i, tov, lat, lon, best, where_prec="1", date="1999-03-24 00:00:00.000"):
    return (f'{i},SYN-{i},1999,1,Clear,{tov},1,1,Synthetic conflict,1,1,Synthetic dyad,1,1,Government of Synthetia,'
            f'2,2,Synthetic Liberation Army,1,"Synthetic article",Synthetic Office,1999-03-25,"Synthetic headline",,'
            f'{where_prec},Synthetic village,"Synthetic description, near a bridge",Mitrovica district,Zvečan municipality,'
            f'{lat},{lon},POINT ({lon} {lat}),1,Serbia (Yugoslavia),345,Europe,1,1,{date},{date},0,0,{best},0,{best},'
            f'{best},{best},345,')


ucdp_rows = [
    ucdp_row(7001, 1, "42.95", "20.80", "2"),
    ucdp_row(7002, 3, "42.90", "20.85", "5", where_prec="4"),
    ucdp_row(7003, 2, "142.90", "20.85", "1"),  # latitude out of range
]
write("ucdp_ged_header.csv", UCDP + "\n" + "\n".join(ucdp_rows) + "\n")
write("ucdp_ged_noheader.csv", "\n".join(ucdp_rows) + "\n")

# 5. Unknown layout: Serbian headers, ";" delimiter, Windows-1250, needs a column mapping.
custom = ("Datum;Tip;Podtip;Akter;Sirina;Duzina;Opstina;Beleska\n"
          "24.09.2023;Battles;Armed clash;Sintetička jedinica;42,96;20,78;Zvečan;Sintetički opis: čćšžđ ČĆŠŽĐ\n"
          "25.09.2023;Riots;Mob violence;Sintetička grupa;42,90;20,86;Severna Mitrovica;Sintetički\n"
          "32.09.2023;Riots;Mob violence;Sintetička grupa;42,90;20,86;Leposavić;loš datum\n")
write("custom_semicolon_cp1250.csv", custom, encoding="cp1250")
(HERE / "custom_mapping.json").write_text(
    '{"name": "synthetic Serbian-header layout", "columns": {"event_date": "Datum", "event_type": "Tip", '
    '"sub_event_type": "Podtip", "actor1": "Akter", "latitude": "Sirina", "longitude": "Duzina", '
    '"admin2": "Opstina", "notes": "Beleska"}}\n', encoding="utf-8")

# 6. ACLED as UTF-16 (Excel "Unicode text"), tab-delimited, Albanian names.
tab_rows = [acled_row(20 + i, "2023-10-0" + str(i + 1), location="Mitrovicë e Veriut", admin2="Zveçan",
                      notes="Sintetik: ë ç Ë Ç") for i in range(2)]
write("acled_utf16_tab.txt", "\n".join(r.replace(",", "\t") for r in [ACLED_HEADER] + [
    r.replace('"Synthetic Group A; Synthetic Group B"', "Synthetic Group A; Synthetic Group B")
     .replace('"Synthetic Source; Other Synthetic Source"', "Synthetic Source; Other Synthetic Source")
     .replace('"Sintetik: ë ç Ë Ç"', "Sintetik: ë ç Ë Ç") for r in tab_rows]) + "\n", encoding="utf-16")

# 7. ACLED in Windows-1252 (Albanian ë ç) with ";" delimiter.
cp_rows = [acled_row(30, "2023-10-05", location="Zveçan", admin2="Zveçan", notes="Sintetik: Mitrovicë, Leposaviq, ë ç")]
write("acled_cp1252_semicolon.csv", "\n".join(r.replace(",", ";") for r in [ACLED_HEADER] + [
    r.replace('"Synthetic Group A; Synthetic Group B"', '"Synthetic Group A, Synthetic Group B"')
     .replace('"Synthetic Source; Other Synthetic Source"', '"Synthetic Source, Other"') for r in cp_rows]) + "\n",
      encoding="cp1252")

# 8. One row per rejection reason (and one warning); a multi-line note shifts the lines after it.
bad = [
    acled_row(41, "2023-09-24", notes="Synthetic good row\nwith a two-line note"),  # lines 2-3, accepted
    acled_row(42, "2023-09-24", actor1=""),                                           # 4 missing actor1
    acled_row(43, "not a date"),                                                      # 5 unparseable date
    acled_row(44, "2023-09-24", lat="95.5", lon="20.7"),                              # 6 latitude out of range
    acled_row(45, "2023-09-24", lat="20.78", lon="42.96"),                            # 7 swapped
    acled_row(46, "2023-09-24", etype="Skirmish"),                                    # 8 unknown event type
    acled_row(47, "2023-09-24", fat="-1"),                                            # 9 negative fatalities
    acled_row(48, "2023-09-24", fat="many"),                                          # 10 non-numeric fatalities
    acled_row(49, "2023-09-24", lat="44.80", lon="20.45"),                            # 11 outside AOI: warning only
    acled_row(50, "2023-09-24", lon="abc"),                                           # 12 longitude not a number
]
write("acled_bad_rows.csv", ACLED_HEADER + "\n" + "\n".join(bad) + "\n")

# 9. Overlap with acled_current_bom.csv (SYNX1, SYNX2 again, one new) plus two id-less copies of one event.
overlap = [acled_row(1, "2023-09-24"), acled_row(2, "2023-09-25", actor1="Synthetic Protesters (Kosovo)",
           etype="Protests", sub="Peaceful protest"), acled_row(5, "2023-09-28"),
           acled_row(0, "2023-09-29", eid="", notes="Synthetic id-less row"),
           acled_row(0, "29 September 2023", eid="", notes="Synthetic id-less row")]
write("acled_overlap.csv", ACLED_HEADER + "\n" + "\n".join(overlap) + "\n")

# 10. A record with more fields than the header (stray delimiters) among good ones.
write("acled_ragged.csv", ACLED_HEADER + "\n" + acled_row(60, "2023-09-24") + "\n"
      + acled_row(61, "2023-09-24") + ",extra,fields\n" + acled_row(62, "2023-09-24") + "\n")

# 11. Unreadable / unrecognisable inputs.
write("unknown_layout.csv", "foo,bar,baz\n1,2,3\n")
write("empty.csv", "")
(HERE / "binary.csv").write_bytes(bytes(range(256)) * 4)
