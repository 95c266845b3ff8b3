; expect: unsat
;
; semantics.md E30 "Port range inclusive" (S3.4.5), default --endport=range (S6.7).
;
; Policy set:
;   p0 = NP(dev) {podSelector: {matchLabels: {app: tool}}, policyTypes: [Egress],
;                 egress: [{ports: [{port: 32000, endPort: 32768}]}]}
; Universe: namespace atoms 0 = dev, 1 = other; pod key app: 0 absent, 1 tool, 2 other.
;
; Question: does dev/app=tool have an allowed flow that is not TCP in [32000, 32768]?
; Expected: unsat (both bounds inclusive, TCP only; nothing else selects the
; destination, so ingress never objects).
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun TCP () Int 0)
(define-fun UDP () Int 1)
(define-fun SCTP () Int 2)
(define-fun NS_dev () Int 0)
(define-fun NS_other () Int 1)
(define-fun app_tool () Int 1)
(define-fun app_OTHER () Int 2)
(define-fun endport_range () Bool true)    ; --endport=range (default)

(declare-const src.kind Int)
(declare-const src.ns Int)
(declare-const |src.label[app]| Int)
(declare-const src.ip4 (_ BitVec 32))
(declare-const src.ip6 (_ BitVec 128))
(declare-const dst.kind Int)
(declare-const dst.ns Int)
(declare-const |dst.label[app]| Int)
(declare-const dst.ip4 (_ BitVec 32))
(declare-const dst.ip6 (_ BitVec 128))
(declare-const proto Int)
(declare-const port Int)
(declare-const v6 Bool)

(define-fun wf () Bool (and
  (<= 0 src.kind 2) (<= 0 dst.kind 1)
  (=> (= src.kind LOCAL_NODE) (= dst.kind POD))
  (<= 0 src.ns NS_other) (<= 0 dst.ns NS_other)
  (<= 0 |src.label[app]| app_OTHER) (<= 0 |dst.label[app]| app_OTHER)
  (<= 0 proto 2) (<= 1 port 65535)))

(define-fun p0.selects_src () Bool
  (and (= src.kind POD) (= src.ns NS_dev) (= |src.label[app]| app_tool)))
; Range element: proto = TCP and x <= port <= e; with --endport=first-port: port = x.
(define-fun p0.eg0 () Bool (and (= proto TCP)
  (ite endport_range (<= 32000 port 32768) (= port 32000))))

(define-fun egress_ok () Bool (or
  (not (= src.kind POD))
  (not p0.selects_src)
  (and p0.selects_src p0.eg0)))
(define-fun ingress_ok () Bool true)   ; no policy has Ingress in policyTypes
(define-fun allowed () Bool (and egress_ok ingress_ok))

(assert wf)
(assert (and (= src.kind POD) (= src.ns NS_dev) (= |src.label[app]| app_tool)))
(assert (not (and (= proto TCP) (<= 32000 port) (<= port 32768))))
(assert allowed)
(check-sat)
