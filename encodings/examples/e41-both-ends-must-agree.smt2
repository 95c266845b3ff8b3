; expect: unsat
;
; semantics.md E41 "Both ends must agree" (S3.5.3, S3.7.1, S3.7.3).
;
; Policy set:
;   p0 = NP(dev) tool-egress {podSelector: {matchLabels: {app: tool}},
;        policyTypes: [Egress], egress: [{to: [{namespaceSelector: {matchLabels:
;        {env: prod}}, podSelector: {matchLabels: {app: db}}}]}]}
;   p1 = NP(prod) default-deny {podSelector: {}, policyTypes: [Ingress]}            (E2)
; Universe:
;   namespace atoms: 0 = dev, 1 = prod, 2 = other
;   pod-label key app: 0 absent, 1 "db", 2 "tool", 3 other
;   namespace-label key env: 0 absent, 1 "prod", 2 other
;
; Question: is dev/app=tool -> prod/app=db (namespace prod labelled env=prod, as in
; the fixture) on TCP 5432 allowed?
; Expected: unsat: the egress side allows it (p0), the ingress side denies it (p1),
; and allowed = egress_ok AND ingress_ok.
(set-logic ALL)

(define-fun POD () Int 0)
(define-fun ADDRESS () Int 1)
(define-fun LOCAL_NODE () Int 2)
(define-fun TCP () Int 0)
(define-fun NS_dev () Int 0)
(define-fun NS_prod () Int 1)
(define-fun NS_other () Int 2)
(define-fun app_db () Int 1)
(define-fun app_tool () Int 2)
(define-fun app_OTHER () Int 3)
(define-fun env_prod () Int 1)
(define-fun env_OTHER () Int 2)
(define-fun allow_from_local_node () Bool true)

(declare-const src.kind Int)
(declare-const src.ns Int)
(declare-const |src.label[app]| Int)
(declare-const |src.nslabel[env]| Int)
(declare-const src.ip4 (_ BitVec 32))
(declare-const src.ip6 (_ BitVec 128))
(declare-const dst.kind Int)
(declare-const dst.ns Int)
(declare-const |dst.label[app]| Int)
(declare-const |dst.nslabel[env]| Int)
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
  (<= 0 |src.nslabel[env]| env_OTHER) (<= 0 |dst.nslabel[env]| env_OTHER)
  ; two pods of one named namespace see the same namespace labels
  (=> (and (= src.kind POD) (= dst.kind POD) (= src.ns dst.ns) (not (= src.ns NS_other)))
      (= |src.nslabel[env]| |dst.nslabel[env]|))
  (<= 0 proto 2) (<= 1 port 65535)))

; --- egress side: p0 ---
(define-fun p0.selects_src () Bool
  (and (= src.kind POD) (= src.ns NS_dev) (= |src.label[app]| app_tool)))
; Peer with both selectors: a pod, nssel on its namespace labels, sel on its labels.
; No "ns = dev" here: the podSelector applies inside the selected namespaces (S3.5.3).
(define-fun p0.eg0 () Bool
  (and (= dst.kind POD) (= |dst.nslabel[env]| env_prod) (= |dst.label[app]| app_db)))
(define-fun egress_ok () Bool (or
  (not (= src.kind POD))
  (not p0.selects_src)
  (and p0.selects_src p0.eg0)))

; --- ingress side: p1 ---
(define-fun p1.selects_dst () Bool (and (= dst.kind POD) (= dst.ns NS_prod)))
(define-fun ingress_ok () Bool (or
  (not (= dst.kind POD))
  (and (= src.kind LOCAL_NODE) allow_from_local_node)
  (not p1.selects_dst)))                 ; p1 has no ingress rule

(define-fun allowed () Bool (and egress_ok ingress_ok))

(assert wf)
(assert (and (= src.kind POD) (= src.ns NS_dev) (= |src.label[app]| app_tool)))
(assert (and (= dst.kind POD) (= dst.ns NS_prod) (= |dst.label[app]| app_db)
             (= |dst.nslabel[env]| env_prod)))
(assert (and (= proto TCP) (= port 5432)))
(assert allowed)
(check-sat)
