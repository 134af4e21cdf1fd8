'use strict';
/*
 * ISO 4217 codes as the extension knows them (src/iso4217.c): code ->
 * [minor units, withdrawn].  Minor units -1: ISO gives none, so the code is
 * always written with its scale ('XAU/2', 'BEC/0').  A code's ISO scale
 * decides how its currency is written: 'USD' is USD at scale 2, USD at any
 * other scale is 'USD/4'.  test/codec.test.js checks this copy against
 * ../../src/iso4217.c, and test/adapter.test.js against the server.
 */
const TABLE = {
  ADP: [0, 1], AED: [2, 0], AFA: [2, 1], AFN: [2, 0], ALK: [2, 1],
  ALL: [2, 0], AMD: [2, 0], ANG: [2, 1], AOA: [2, 0], AOK: [0, 1],
  AON: [0, 1], AOR: [0, 1], ARA: [2, 1], ARP: [2, 1], ARS: [2, 0],
  ARY: [-1, 1], ATS: [2, 1], AUD: [2, 0], AWG: [2, 0], AYM: [2, 1],
  AZM: [2, 1], AZN: [2, 0], BAD: [2, 1], BAM: [2, 0], BBD: [2, 0],
  BDT: [2, 0], BEC: [-1, 1], BEF: [0, 1], BEL: [-1, 1], BGJ: [-1, 1],
  BGK: [-1, 1], BGL: [2, 1], BGN: [2, 1], BHD: [3, 0], BIF: [0, 0],
  BMD: [2, 0], BND: [2, 0], BOB: [2, 0], BOP: [2, 1], BOV: [2, 0],
  BRB: [2, 1], BRC: [2, 1], BRE: [2, 1], BRL: [2, 0], BRN: [2, 1],
  BRR: [2, 1], BSD: [2, 0], BTN: [2, 0], BUK: [-1, 1], BWP: [2, 0],
  BYB: [0, 1], BYN: [2, 0], BYR: [0, 1], BZD: [2, 0], CAD: [2, 0],
  CDF: [2, 0], CHC: [-1, 1], CHE: [2, 0], CHF: [2, 0], CHW: [2, 0],
  CLF: [4, 0], CLP: [0, 0], CNY: [2, 0], COP: [2, 0], COU: [2, 0],
  CRC: [2, 0], CSD: [2, 1], CSJ: [-1, 1], CSK: [2, 1], CUC: [2, 1],
  CUP: [2, 0], CVE: [2, 0], CYP: [2, 1], CZK: [2, 0], DDM: [2, 1],
  DEM: [2, 1], DJF: [0, 0], DKK: [2, 0], DOP: [2, 0], DZD: [2, 0],
  ECS: [0, 1], ECV: [-1, 1], EEK: [2, 1], EGP: [2, 0], ERN: [2, 0],
  ESA: [-1, 1], ESB: [-1, 1], ESP: [0, 1], ETB: [2, 0], EUR: [2, 0],
  FIM: [2, 1], FJD: [2, 0], FKP: [2, 0], FRF: [2, 1], GBP: [2, 0],
  GEK: [0, 1], GEL: [2, 0], GHC: [2, 1], GHP: [-1, 1], GHS: [2, 0],
  GIP: [2, 0], GMD: [2, 0], GNE: [-1, 1], GNF: [0, 0], GNS: [-1, 1],
  GQE: [-1, 1], GRD: [0, 1], GTQ: [2, 0], GWE: [-1, 1], GWP: [2, 1],
  GYD: [2, 0], HKD: [2, 0], HNL: [2, 0], HRD: [2, 1], HRK: [2, 1],
  HTG: [2, 0], HUF: [2, 0], IDR: [2, 0], IEP: [2, 1], ILP: [-1, 1],
  ILR: [-1, 1], ILS: [2, 0], INR: [2, 0], IQD: [3, 0], IRR: [2, 0],
  ISJ: [-1, 1], ISK: [0, 0], ITL: [0, 1], JMD: [2, 0], JOD: [3, 0],
  JPY: [0, 0], KES: [2, 0], KGS: [2, 0], KHR: [2, 0], KMF: [0, 0],
  KPW: [2, 0], KRW: [0, 0], KWD: [3, 0], KYD: [2, 0], KZT: [2, 0],
  LAJ: [-1, 1], LAK: [2, 0], LBP: [2, 0], LKR: [2, 0], LRD: [2, 0],
  LSL: [2, 0], LSM: [-1, 1], LTL: [2, 1], LTT: [2, 1], LUC: [-1, 1],
  LUF: [0, 1], LUL: [-1, 1], LVL: [2, 1], LVR: [2, 1], LYD: [3, 0],
  MAD: [2, 0], MDL: [2, 0], MGA: [2, 0], MGF: [0, 1], MKD: [2, 0],
  MLF: [-1, 1], MMK: [2, 0], MNT: [2, 0], MOP: [2, 0], MRO: [2, 1],
  MRU: [2, 0], MTL: [2, 1], MTP: [-1, 1], MUR: [2, 0], MVQ: [-1, 1],
  MVR: [2, 0], MWK: [2, 0], MXN: [2, 0], MXP: [2, 1], MXV: [2, 0],
  MYR: [2, 0], MZE: [-1, 1], MZM: [2, 1], MZN: [2, 0], NAD: [2, 0],
  NGN: [2, 0], NIC: [2, 1], NIO: [2, 0], NLG: [2, 1], NOK: [2, 0],
  NPR: [2, 0], NZD: [2, 0], OMR: [3, 0], PAB: [2, 0], PEH: [-1, 1],
  PEI: [2, 1], PEN: [2, 0], PES: [2, 1], PGK: [2, 0], PHP: [2, 0],
  PKR: [2, 0], PLN: [2, 0], PLZ: [2, 1], PTE: [0, 1], PYG: [0, 0],
  QAR: [2, 0], RHD: [-1, 1], ROK: [-1, 1], ROL: [0, 1], RON: [2, 0],
  RSD: [2, 0], RUB: [2, 0], RUR: [2, 1], RWF: [0, 0], SAR: [2, 0],
  SBD: [2, 0], SCR: [2, 0], SDD: [2, 1], SDG: [2, 0], SDP: [2, 1],
  SEK: [2, 0], SGD: [2, 0], SHP: [2, 0], SIT: [2, 1], SKK: [2, 1],
  SLE: [2, 0], SLL: [2, 1], SOS: [2, 0], SRD: [2, 0], SRG: [2, 1],
  SSP: [2, 0], STD: [2, 1], STN: [2, 0], SUR: [2, 1], SVC: [2, 0],
  SYP: [2, 0], SZL: [2, 0], THB: [2, 0], TJR: [-1, 1], TJS: [2, 0],
  TMM: [2, 1], TMT: [2, 0], TND: [3, 0], TOP: [2, 0], TPE: [0, 1],
  TRL: [0, 1], TRY: [2, 0], TTD: [2, 0], TWD: [2, 0], TZS: [2, 0],
  UAH: [2, 0], UAK: [2, 1], UGS: [-1, 1], UGW: [-1, 1], UGX: [0, 0],
  USD: [2, 0], USN: [2, 0], USS: [2, 1], UYI: [0, 0], UYN: [-1, 1],
  UYP: [-1, 1], UYU: [2, 0], UYW: [4, 0], UZS: [2, 0], VEB: [2, 1],
  VED: [2, 0], VEF: [2, 1], VES: [2, 0], VNC: [-1, 1], VND: [0, 0],
  VUV: [0, 0], WST: [2, 0], XAD: [2, 0], XAF: [0, 0], XAG: [-1, 0],
  XAU: [-1, 0], XBA: [-1, 0], XBB: [-1, 0], XBC: [-1, 0], XBD: [-1, 0],
  XCD: [2, 0], XCG: [2, 0], XDR: [-1, 0], XEU: [-1, 1], XFO: [-1, 1],
  XFU: [-1, 1], XOF: [0, 0], XPD: [-1, 0], XPF: [0, 0], XPT: [-1, 0],
  XRE: [-1, 1], XSU: [-1, 0], XTS: [-1, 0], XUA: [-1, 0], XXX: [-1, 0],
  YDD: [-1, 1], YER: [2, 0], YUD: [2, 1], YUM: [2, 1], YUN: [2, 1],
  ZAL: [-1, 1], ZAR: [2, 0], ZMK: [2, 1], ZMW: [2, 0], ZRN: [2, 1],
  ZRZ: [-1, 1], ZWC: [-1, 1], ZWD: [2, 1], ZWG: [2, 0], ZWL: [2, 1],
  ZWN: [2, 1], ZWR: [2, 1],
};

module.exports = Object.freeze(Object.fromEntries(
  Object.entries(TABLE).map(([code, [minorUnits, withdrawn]]) =>
    [code, Object.freeze({ code, minorUnits, withdrawn: withdrawn === 1 })])));
